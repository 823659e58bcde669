-- Preview links: a secret link to an article that is not (or not yet) live.
--
-- The token itself is never stored, only its sha256 (256 random bits: a slow hash adds
-- nothing). A link is pinned to one version, or follows the article (version NULL).
CREATE TABLE article_previews (
    id          uuid PRIMARY KEY,
    article_id  uuid NOT NULL REFERENCES articles (id),
    token_hash  bytea NOT NULL UNIQUE,
    version     integer CHECK (version > 0),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK (expires_at > created_at)
);

CREATE INDEX article_previews_article ON article_previews (article_id, created_at DESC, id DESC);

-- The editorial calendar: expiries of scheduled articles too (the existing index covers only
-- published ones, for the scheduler).
CREATE INDEX articles_calendar_expiry ON articles (unpublish_at)
    WHERE status IN ('published', 'scheduled') AND unpublish_at IS NOT NULL AND deleted_at IS NULL;
