-- Candidates are the newest matches of a search. Found through GIN alone, every match's row
-- is read for its published_at: the cost grows with the matches (21,000 of a common word in
-- 100,000 articles). Two ways that read the candidates' rows only (see store.py):

-- 1. Without extensions: the recent matches, the posting lists AND-ed with this range.
CREATE INDEX documents_published_at ON search.documents (published_at);

-- 2. With RUM (Debian/Ubuntu `postgresql-NN-rum`; not on every managed service): an index that
-- keeps each posting's published_at and returns matches newest first. Made only where the
-- extension is available and may be created; elsewhere this step is a notice, and the consumer
-- searches through GIN (it looks for this index). `SET cms.search_rum = off` for the database
-- (or the migrating role) leaves it out on purpose.
DO $$
BEGIN
    IF coalesce(current_setting('cms.search_rum', true), '') = 'off' THEN
        RAISE NOTICE 'cms.search_rum is off: no RUM index';
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'rum') THEN
        RAISE NOTICE 'the rum extension is not available: search uses GIN';
        RETURN;
    END IF;
    BEGIN
        CREATE EXTENSION IF NOT EXISTS rum;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'not allowed to create the rum extension: search uses GIN';
        RETURN;
    END;
    CREATE INDEX documents_rum ON search.documents
        USING rum (tsv rum_tsvector_addon_ops, published_at)
        WITH (attach = 'published_at', to = 'tsv');
END
$$;
