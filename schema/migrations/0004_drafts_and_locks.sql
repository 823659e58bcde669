-- Work is never lost: each editor's autosaved working copy of an article, and soft edit locks.
--
-- Neither is part of an article's history: writing them bumps no version and emits no event.
-- Articles are deleted softly, so the service removes both when it deletes an article; the
-- foreign keys (with ON DELETE CASCADE) keep a hard purge from leaving them behind.

-- One working copy per person and article: the fields as a PATCH would send them, and the
-- version they were edited from (a copy based on an older version is "stale").
CREATE TABLE article_draft_copies (
    article_id uuid NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    actor      text NOT NULL,
    based_on   integer NOT NULL CHECK (based_on > 0),
    fields     jsonb NOT NULL,
    saved_at   timestamptz NOT NULL,
    PRIMARY KEY (article_id, actor)
);

-- At most one lock per article; a lease that ran out counts as no lock, so a crashed client
-- never blocks anyone for longer than one lease. `taken_from` remembers whom the last take-over
-- displaced, so that person's next save is told who took the article and when.
CREATE TABLE article_locks (
    article_id uuid PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    holder     text NOT NULL,
    since      timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    taken_from text,
    taken_at   timestamptz,
    CHECK (expires_at > since),
    CHECK ((taken_from IS NULL) = (taken_at IS NULL))
);
