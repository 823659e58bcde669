-- Corrections and legal takedowns.
--
-- `killed`: an article taken down for legal reasons. Never live, and unlike `unpublished` an
-- editor cannot publish it again: only an admin restores it (`POST .../restore-killed`).
ALTER TABLE articles DROP CONSTRAINT articles_status_check;
ALTER TABLE articles
    ADD CONSTRAINT articles_status_check
        CHECK (status IN ('draft', 'in_review', 'scheduled', 'published', 'unpublished', 'killed')),
    -- Dated correction notes, oldest first: [{id, note, at, by}]. Part of the article (and of
    -- every event), so consumers and delivery see them.
    ADD COLUMN corrections jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN killed_at   timestamptz,
    ADD CONSTRAINT articles_killed_at CHECK ((status = 'killed') = (killed_at IS NOT NULL));

-- Each kill and each restore, with who and why: the reason is a legal record, kept here and
-- never in the article, its events or the delivery API.
CREATE TABLE article_takedowns (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id      uuid NOT NULL REFERENCES articles (id),
    article_version integer NOT NULL,
    action          text NOT NULL CHECK (action IN ('kill', 'restore')),
    reason          text NOT NULL,
    actor           text NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX article_takedowns_article ON article_takedowns (article_id, id);
