-- Articles, their revisions, the transactional outbox and API tokens.

CREATE TABLE articles (
    id                 uuid PRIMARY KEY,
    slug               text NOT NULL,
    language           text NOT NULL,
    title              text NOT NULL,
    lead               text NOT NULL DEFAULT '',
    body               jsonb NOT NULL DEFAULT '[]',
    section            text,
    tags               text[] NOT NULL DEFAULT '{}',
    authors            text[] NOT NULL DEFAULT '{}',
    related            uuid[] NOT NULL DEFAULT '{}',
    status             text NOT NULL
        CHECK (status IN ('draft', 'in_review', 'scheduled', 'published', 'unpublished')),
    publish_at         timestamptz,
    unpublish_at       timestamptz,
    published_at       timestamptz,
    first_published_at timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    deleted_at         timestamptz,
    owner              text NOT NULL,
    version            integer NOT NULL CHECK (version > 0)
);

-- A slug is unique per language among the articles that still exist.
CREATE UNIQUE INDEX articles_live_slug ON articles (language, slug) WHERE deleted_at IS NULL;
-- Delivery: newest first among the live ones.
CREATE INDEX articles_delivery ON articles (published_at DESC, id DESC)
    WHERE status = 'published' AND deleted_at IS NULL;
-- Admin lists: newest change first.
CREATE INDEX articles_admin ON articles (updated_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX articles_tags ON articles USING gin (tags);
-- The scheduler looks for what fell due.
CREATE INDEX articles_publish_due ON articles (publish_at)
    WHERE status = 'scheduled' AND deleted_at IS NULL;
CREATE INDEX articles_unpublish_due ON articles (unpublish_at)
    WHERE status = 'published' AND unpublish_at IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE article_revisions (
    article_id uuid NOT NULL REFERENCES articles (id),
    version    integer NOT NULL,
    action     text NOT NULL,
    actor      text NOT NULL,
    created_at timestamptz NOT NULL,
    snapshot   jsonb NOT NULL,
    PRIMARY KEY (article_id, version)
);

-- One row per event, written in the transaction of the change it reports. Rows stay after
-- they were sent: they are the event log (pruned after CMS_EVENT_RETENTION).
CREATE TABLE outbox (
    sequence        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE,
    event_type      text NOT NULL,
    article_id      uuid NOT NULL,
    article_version integer NOT NULL,
    correlation_id  text,
    payload         jsonb NOT NULL,
    -- The writing transaction: readers of the log show a row only once every older
    -- transaction has ended, so a late commit can never slip behind a reader's cursor.
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);

-- The relay reads only what is not yet sent; this stays small however long the log is.
CREATE INDEX outbox_unsent ON outbox (sequence) WHERE sent_at IS NULL;
CREATE INDEX outbox_article ON outbox (article_id, sequence);
CREATE INDEX outbox_created ON outbox (created_at);

-- Wake the relay at commit (NOTIFY is delivered only when the transaction commits).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cms_outbox', '');
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE api_tokens (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('admin', 'editor', 'author')),
    -- sha256 of the token: tokens are 256 random bits, so a slow hash adds nothing.
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
