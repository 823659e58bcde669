-- Moving a WordPress newsroom in: what was imported from where, resumable REST imports, the old
-- permalinks that answer 301, and the article's own say on whether it goes to social networks.

-- Whether the social consumer may make a new post for the article when it is live. An
-- archive moved in from another system is already out there: posting years of stories again
-- would flood every channel. Part of the article (and of every event), so it holds for every
-- later version, not only for the import's own event.
ALTER TABLE articles ADD COLUMN post_to_social boolean NOT NULL DEFAULT true;

-- One row per imported WordPress post, keyed by the site and the post's id (`wp:post_id`):
-- GUIDs are not unique in real exports. `content_hash` is over what the import made of the
-- post, so a second run skips what did not change; `article_version` is the version the import
-- wrote, so a run never overwrites an edit made in the CMS since.
CREATE TABLE wordpress_posts (
    site            text NOT NULL,
    post_id         bigint NOT NULL,
    article_id      uuid NOT NULL REFERENCES articles (id),
    article_version integer NOT NULL,
    content_hash    text NOT NULL,
    permalink       text,
    -- The "see also" links found in the post, resolved to `related` once every post is in.
    see_also        text[] NOT NULL DEFAULT '{}',
    imported_at     timestamptz NOT NULL,
    PRIMARY KEY (site, post_id)
);
CREATE UNIQUE INDEX wordpress_posts_article ON wordpress_posts (article_id);

-- Where a REST import stands: the next page of posts to fetch per site, so an interrupted
-- import goes on where it stopped.
CREATE TABLE wordpress_checkpoints (
    site       text PRIMARY KEY,
    next_page  integer NOT NULL CHECK (next_page > 0),
    updated_at timestamptz NOT NULL
);

-- Old URLs that now live elsewhere: the path (and query, for `?p=123`) of a permalink, to the
-- article it became. The delivery API answers 301 to the article's current URL, so a later
-- slug change keeps the old link working.
CREATE TABLE article_redirects (
    path       text PRIMARY KEY,
    article_id uuid NOT NULL REFERENCES articles (id),
    origin     text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX article_redirects_article ON article_redirects (article_id);
