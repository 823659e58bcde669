-- The search index: one document per published article, in the consumer's own schema.
CREATE TABLE search.documents (
    article_id   uuid PRIMARY KEY,
    language     text NOT NULL,
    slug         text NOT NULL,
    title        text NOT NULL,
    section      text,
    tags         text[] NOT NULL DEFAULT '{}',
    published_at timestamptz NOT NULL,
    version      integer NOT NULL,
    config       regconfig NOT NULL,
    -- HTML-escaped plain text of lead and body, for highlighted snippets.
    snippet_text text NOT NULL,
    tsv          tsvector NOT NULL,
    indexed_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX documents_tsv ON search.documents USING gin (tsv);
CREATE INDEX documents_language ON search.documents (language);
CREATE INDEX documents_section ON search.documents (section);
CREATE INDEX documents_tags ON search.documents USING gin (tags);
