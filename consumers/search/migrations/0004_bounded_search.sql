-- A search without a language is OR-ed across the text search configurations of the
-- documents present, found by a loose scan of this index: one probe per configuration.
CREATE INDEX documents_config ON search.documents (config);

-- Snippet texts as the consumer writes them from now on: at most 16,000 characters (see
-- SNIPPET_CHARS in document.py), cut before the last partial word. The text is escaped; an
-- entity holds no whitespace, and a trailing one cut short is dropped.
UPDATE search.documents
SET snippet_text = regexp_replace(regexp_replace(left(snippet_text, 16000), '\s\S*$', ''), '&[#a-z0-9]*$', '')
WHERE octet_length(snippet_text) > 16000 AND length(snippet_text) > 16000;
