-- A tsvector holds at most 1 MB of lexemes and positions, and the API accepts 2 MiB of text:
-- an edit of made-up words, tables of figures or names can exceed it. The index must then
-- hold what fits of the new text, never keep the old one. `truncated` says that the end of
-- the body is not searchable.
ALTER TABLE search.documents ADD COLUMN truncated boolean NOT NULL DEFAULT false;

-- The document's weighted tsvector: title A, lead B, body C, tags C (in that order, so the
-- positions are those of the text). When it would be too long, the body is cut at a word
-- boundary to three quarters, again and again, until it fits. Title, lead and tags are small
-- (the API caps them), so only the body is ever cut.
CREATE FUNCTION search.document_tsv(
    config regconfig, title text, lead text, body text, tags text[],
    OUT tsv tsvector, OUT truncated boolean
) LANGUAGE plpgsql STABLE AS $$
DECLARE
    head tsvector := setweight(to_tsvector(config, title), 'A') || setweight(to_tsvector(config, lead), 'B');
    tail tsvector := setweight(to_tsvector(config, array_to_string(tags, ' ')), 'C');
BEGIN
    truncated := false;
    LOOP
        BEGIN
            tsv := head || setweight(to_tsvector(config, body), 'C') || tail;
            RETURN;
        EXCEPTION WHEN program_limit_exceeded THEN
            IF body = '' THEN
                RAISE;
            END IF;
            body := regexp_replace(left(body, length(body) * 3 / 4), '\S*$', '');
            truncated := true;
        END;
    END LOOP;
END
$$;
