-- What readers saw of each article at the version last applied here (`shown`) and at the
-- version before it (`before`; null when this consumer never saw one): a change purges what
-- moved between the two, and a redelivery of that version purges the same keys again.
CREATE TABLE purge.articles (
    article_id uuid PRIMARY KEY,
    version    integer NOT NULL,
    shown      jsonb NOT NULL,
    before     jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Keys waiting to be purged: one row per key however many changes named it, so a burst of
-- changes coalesces into one purge. `seq` moves on whenever a key is queued again, so a purge
-- that was already in flight removes only the queuing it saw, never a newer one.
CREATE SEQUENCE purge.pending_seq;
CREATE TABLE purge.pending (
    key        text PRIMARY KEY,
    hard       boolean NOT NULL,
    seq        bigint NOT NULL DEFAULT nextval('purge.pending_seq'),
    -- The earliest change still waiting on this key: the purge lag is measured from it.
    changed_at timestamptz NOT NULL
);
CREATE INDEX pending_order ON purge.pending (seq);
