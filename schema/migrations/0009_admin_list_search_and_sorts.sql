-- The admin list finds articles of every status (drafts too) by a piece of their title, lead
-- or slug, as editors type it: a trigram index answers `ILIKE '%piece%'` without reading every
-- row, whatever the status. The expression is the one `cms/articles/queries.py` filters on.
-- pg_trgm is in contrib and "trusted" (a database owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX articles_admin_text ON articles
    USING gin ((title || ' ' || lead || ' ' || slug) gin_trgm_ops) WHERE deleted_at IS NULL;
-- How many rows a piece matches, for the planner: without these statistics it guesses "few"
-- for every piece and reads all the matches of a common one (every article has "Meldung")
-- through the trigram index to sort them (1.6 s at 100,000); with them it walks
-- articles_admin newest first and stops at the page's end for a common piece, and takes the
-- trigram index for a rare one.
CREATE STATISTICS articles_admin_text_stats ON (title || ' ' || lead || ' ' || slug) FROM articles;
ANALYZE articles;
-- The admin list sorted by title, paged by (title, id). Oldest first reads articles_admin
-- backwards and needs no index of its own.
CREATE INDEX articles_admin_title ON articles (title, id) WHERE deleted_at IS NULL;
