-- One post per (article, channel): what was composed, where it stands, and what the network
-- answered. The row is the claim that makes a post happen at most once.
CREATE TABLE social.posts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    article_id       uuid NOT NULL,
    channel          text NOT NULL,
    status           text NOT NULL CHECK (status IN ('ready', 'sending', 'sent', 'failed', 'retracting', 'retracted')),
    text             text NOT NULL,
    edited_by        text,
    -- What the adapters need besides the text (link card, language, record time).
    link_url         text NOT NULL,
    card_title       text NOT NULL,
    card_description text NOT NULL,
    language         text NOT NULL,
    published_at     timestamptz NOT NULL,
    -- A new generation each time the article is published again after a retraction: a new
    -- idempotency key (Mastodon Idempotency-Key, Bluesky record key, webhook-id).
    generation       integer NOT NULL DEFAULT 1,
    idempotency_key  text NOT NULL,
    remote_id        text,
    remote_url       text,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    -- true from the moment a request may have reached the network until its answer is recorded
    maybe_sent       boolean NOT NULL DEFAULT false,
    retry_at         timestamptz,
    article_live     boolean NOT NULL,
    article_version  integer NOT NULL,
    first_attempt_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    retracted_at     timestamptz,
    CONSTRAINT posts_article_channel UNIQUE (article_id, channel)
);

CREATE INDEX posts_status ON social.posts (status);
CREATE INDEX posts_created ON social.posts (created_at DESC, id DESC);
