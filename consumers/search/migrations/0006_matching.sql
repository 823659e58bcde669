-- Matching as readers type: accents folded, spelling variants, and a vocabulary for "did you
-- mean" and the search box's suggestions.
--
-- Both extensions are in contrib, "trusted" (a database owner may create them) and offered by
-- the managed PostgreSQL services; neither needs a file of ours on the database server.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The configurations of the languages we fold: PostgreSQL's own, with `unaccent` before the
-- stemmer for words that are not plain ASCII, so that `é` matches `e`, `ç` `c`, `ø` `o`
-- (`Élysée` = `Elysee`, `Šefčovič` = `Sefcovic`) on documents, queries and snippets alike.
-- German umlauts need nothing more here: the German stemmer already ends by turning ä, ö, ü
-- into a, o, u and ß into ss. Their two-letter spellings (`Luxusgueter`) are variants that
-- the consumer adds (see variants.py): folding `ue` into `u` inside the configuration would
-- also turn `Steuer` into `Steur` and `Boeing` into `Boing`, and change those words' stems.
CREATE TEXT SEARCH CONFIGURATION search.german (COPY = pg_catalog.german);
ALTER TEXT SEARCH CONFIGURATION search.german
    ALTER MAPPING FOR word, hword, hword_part WITH unaccent, german_stem;
CREATE TEXT SEARCH CONFIGURATION search.english (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION search.english
    ALTER MAPPING FOR word, hword, hword_part WITH unaccent, english_stem;
CREATE TEXT SEARCH CONFIGURATION search.french (COPY = pg_catalog.french);
ALTER TEXT SEARCH CONFIGURATION search.french
    ALTER MAPPING FOR word, hword, hword_part WITH unaccent, french_stem;
CREATE TEXT SEARCH CONFIGURATION search.simple (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION search.simple
    ALTER MAPPING FOR word, hword, hword_part WITH unaccent, simple;

-- The document's tsvector with what the consumer adds to its text (compound parts, spelling
-- variants) at weight D, after everything else: found, ranked below the text itself, and
-- never in the way of a phrase of the text.
CREATE FUNCTION search.document_tsv(
    config regconfig, title text, lead text, body text, tags text[], extra text,
    OUT tsv tsvector, OUT truncated boolean
) LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT t.tsv, t.truncated INTO tsv, truncated FROM search.document_tsv(config, title, lead, body, tags) AS t;
    BEGIN
        tsv := tsv || setweight(to_tsvector(config, extra), 'D');
    EXCEPTION WHEN program_limit_exceeded THEN
        NULL;  -- the text alone (nearly) fills a tsvector: it is kept, without the additions
    END;
END
$$;

-- The query with each asked word OR-ed with its variants, in the configuration's own terms
-- (`variants[i]` for `asked[i]`; `for_config[i]`, when set, is the one configuration it is for).
-- A variant that makes more or other than one term (a stop word, two words) is left out.
CREATE FUNCTION search.with_variants(
    q tsquery, config regconfig, asked text[], variants text[], for_config regconfig[]
) RETURNS tsquery LANGUAGE plpgsql STABLE AS $$
DECLARE
    target tsquery;
    alternative tsquery;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(asked), 0) LOOP
        CONTINUE WHEN for_config[i] IS NOT NULL AND for_config[i] <> config;
        target := plainto_tsquery(config, asked[i]);
        alternative := plainto_tsquery(config, variants[i]);
        CONTINUE WHEN numnode(target) <> 1 OR numnode(alternative) <> 1 OR target = alternative;
        q := ts_rewrite(q, target, target || alternative);
    END LOOP;
    RETURN q;
END
$$;

-- The words of the published text, per configuration: for "did you mean" (trigram similarity)
-- and suggestions (prefix, in `C` order so the primary key serves a range scan). Written as
-- articles are indexed, never deleted with them: what is offered to readers is checked
-- against the documents at the time it is offered, so a word of an unpublished article
-- is never suggested.
CREATE TABLE search.words (
    word        text COLLATE "C" NOT NULL,  -- lower case
    config      regconfig NOT NULL,
    spelling    text NOT NULL,              -- as it was first written, to show
    variant_key text NOT NULL,              -- variants.variant_key: equal for Schoigu and Shoigu
    name_like   boolean NOT NULL,           -- never seen in lower case in a title or lead
    headlines   integer NOT NULL DEFAULT 0, -- indexings of a title or lead that held it
    PRIMARY KEY (word, config)
) WITH (fillfactor = 70);  -- room on each page, so that counting a headline updates in place (HOT)
-- GIN, not GiST: over the 282,000 word forms of the German dictionary, a typo's similar
-- words took 6-75 ms by GIN (`word % q`, similarity at least a threshold), 50-440 ms by
-- GiST's nearest-first scan (`ORDER BY word <-> q`), whose signatures fill up on so many words.
CREATE INDEX words_trgm ON search.words USING gin (word gin_trgm_ops);
CREATE INDEX words_variant_key ON search.words (variant_key);
