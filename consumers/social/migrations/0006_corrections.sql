-- One reply per (article, channel, correction): the claim that makes a correction notice go out
-- at most once, as a reply to the channel's post (never a new top-level post).
CREATE TABLE social.corrections (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    article_id       uuid NOT NULL,
    channel          text NOT NULL,
    correction_id    uuid NOT NULL,
    -- skipped: the channel's post was not out when the correction came (nothing to reply to),
    -- or the channel is in review mode (an editor posts corrections there by hand).
    status           text NOT NULL
        CHECK (status IN ('sending', 'sent', 'failed', 'skipped', 'retracting', 'retracted')),
    text             text NOT NULL,
    language         text NOT NULL,
    link_url         text NOT NULL,
    -- Mastodon Idempotency-Key, Bluesky record key, webhook-id.
    idempotency_key  text NOT NULL,
    -- The post replied to: its remote id (Mastodon status id, Bluesky at:// URI) and key.
    parent_remote_id text,
    parent_key       text NOT NULL,
    remote_id        text,
    remote_url       text,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    maybe_sent       boolean NOT NULL DEFAULT false,
    first_attempt_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    retracted_at     timestamptz,
    CONSTRAINT corrections_once UNIQUE (article_id, channel, correction_id)
);
