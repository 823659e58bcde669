-- Subscriptions: where to send which events, and the secrets that sign them.
CREATE TABLE webhooks.subscriptions (
    id                    uuid PRIMARY KEY,
    url                   text NOT NULL,
    description           text NOT NULL DEFAULT '',
    -- Empty: every event type, section, language, tag.
    event_types           text[] NOT NULL DEFAULT '{}',
    sections              text[] NOT NULL DEFAULT '{}',
    languages             text[] NOT NULL DEFAULT '{}',
    tags                  text[] NOT NULL DEFAULT '{}',
    enabled               boolean NOT NULL DEFAULT true,
    disabled_reason       text,
    disabled_at           timestamptz,
    secret                text NOT NULL,
    -- After a rotation both secrets sign until previous_secret_until.
    previous_secret       text,
    previous_secret_until timestamptz,
    created_by            text NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_page ON webhooks.subscriptions (created_at DESC, id DESC);

-- The journal: every event this consumer applied, as it came, for replays of a time range.
CREATE TABLE webhooks.events (
    event_id        uuid PRIMARY KEY,
    type            text NOT NULL,
    article_id      uuid NOT NULL,
    article_version integer NOT NULL,
    section         text,
    language        text NOT NULL,
    tags            text[] NOT NULL,
    time            timestamptz NOT NULL,
    body            jsonb NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_time ON webhooks.events (time);
CREATE INDEX events_received ON webhooks.events (received_at);

-- The outbox per subscription: one row per (subscription, event), written in the transaction
-- that applies the event; its id is the stable `webhook-id`.
CREATE TABLE webhooks.deliveries (
    id              uuid PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    subscription_id uuid NOT NULL REFERENCES webhooks.subscriptions ON DELETE CASCADE,
    event_id        uuid NOT NULL REFERENCES webhooks.events ON DELETE CASCADE,
    event_type      text NOT NULL,
    article_id      uuid NOT NULL,
    article_version integer NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- The first failed attempt since the last success, redelivery or re-enabling.
    failing_since   timestamptz,
    last_status     integer,
    last_error      text,
    -- +1 on each redelivery, replay or re-enabling: an attempt in flight when one is asked for
    -- must not mark the delivery done, or the request would be lost.
    requests        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX deliveries_due ON webhooks.deliveries (subscription_id, next_attempt_at) WHERE status = 'pending';
-- An article's next delivery is its pending one with the lowest version.
CREATE INDEX deliveries_article_order
    ON webhooks.deliveries (subscription_id, article_id, article_version, seq) WHERE status = 'pending';
CREATE INDEX deliveries_page ON webhooks.deliveries (subscription_id, created_at DESC, id DESC);
CREATE INDEX deliveries_event ON webhooks.deliveries (event_id);

-- The delivery log: one row per HTTP attempt, capped per subscription.
CREATE TABLE webhooks.attempts (
    id               uuid PRIMARY KEY,
    delivery_id      uuid NOT NULL REFERENCES webhooks.deliveries ON DELETE CASCADE,
    subscription_id  uuid NOT NULL,
    attempted_at     timestamptz NOT NULL,
    status           integer,
    latency_ms       integer NOT NULL,
    error            text,
    response_excerpt text
);
CREATE INDEX attempts_page ON webhooks.attempts (subscription_id, attempted_at DESC, id DESC);
CREATE INDEX attempts_delivery ON webhooks.attempts (delivery_id);
