"""SQL for `search.documents`."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from cms.db import Connection
from consumers.search.document import CONFIGS, Document

_UPSERT = """
INSERT INTO search.documents AS d (article_id, language, slug, title, section, tags, published_at,
                                   version, config, snippet_text, tsv, truncated)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::regconfig, $10, t.tsv, t.truncated
FROM search.document_tsv($9::regconfig, $4, $11, $12, $6) AS t
ON CONFLICT (article_id) DO UPDATE SET
    language = excluded.language, slug = excluded.slug, title = excluded.title,
    section = excluded.section, tags = excluded.tags, published_at = excluded.published_at,
    version = excluded.version, config = excluded.config, snippet_text = excluded.snippet_text,
    tsv = excluded.tsv, truncated = excluded.truncated, indexed_at = now()
RETURNING truncated"""
_REMOVE = "DELETE FROM search.documents WHERE article_id = $1"

# The query in the document's language; without a language filter, in every configured one
# (OR-ed), so a German reader's "Luxusgüter" still finds "Luxusgütern" among mixed languages.
# Most configurations parse a word alike, so only the distinct forms are OR-ed: matches and
# ranks are the same as with the repeats, but ts_rank_cd and ts_headline pay for every operand
# (29 of them made a search without a language 5-10 times slower), and ts_headline counts a
# word once per matching operand, which cut snippets short of MaxWords.
_ALL_CONFIGS = sorted({*CONFIGS.values(), "simple"})
_ALTERNATIVES = ", ".join(f"websearch_to_tsquery('{c}', $1)" for c in _ALL_CONFIGS)
ANY_LANGUAGE_QUERY = (
    "(SELECT string_agg(DISTINCT '(' || a::text || ')', ' | ')::tsquery"
    f" FROM unnest(ARRAY[{_ALTERNATIVES}]) AS a WHERE numnode(a) > 0)"
)

# Ranking: cover density normalised to 0..1, times a mild recency boost (at most +25 %,
# halving every week), so relevance leads and freshness breaks near-ties.
_RANK = (
    "ts_rank_cd(d.tsv, q.query, 32) * (1 + 0.25 / (1 + extract(epoch FROM now() - d.published_at)"
    " / 604800.0))"
)
# `q` is MATERIALIZED so that the query is parsed once per search. Inlined, it was folded into
# a constant only in custom plans; once PostgreSQL settled on the generic plan of the prepared
# statement (after five runs on a connection), it parsed the query again for every matching row.
SEARCH = f"""
WITH q AS MATERIALIZED (SELECT CASE WHEN $2::text IS NULL THEN {ANY_LANGUAGE_QUERY}
                                    ELSE websearch_to_tsquery($3::regconfig, $1) END AS query),
hits AS (
    SELECT d.article_id, d.slug, d.language, d.title, d.section, d.published_at, d.config,
           d.snippet_text, {_RANK} AS rank, q.query
    FROM search.documents d, q
    WHERE d.tsv @@ q.query
      AND ($2::text IS NULL OR d.language = $2)
      AND ($4::text IS NULL OR d.section = $4)
      AND ($5::text IS NULL OR d.tags @> ARRAY[$5::text])
    ORDER BY rank DESC, d.article_id
    LIMIT $6 OFFSET $7
)
SELECT article_id, slug, language, title, section, published_at, rank,
       ts_headline(config, snippet_text, query,
                   'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=12, MaxFragments=2, '
                   'FragmentDelimiter=" … "') AS snippet
FROM hits ORDER BY rank DESC, article_id"""


class SearchHit(BaseModel):
    """One hit, as the search API answers it."""

    id: uuid.UUID
    slug: str
    language: str
    title: str
    section: str | None
    published_at: datetime
    score: float
    snippet: str = Field(description="escaped text; matches wrapped in <mark>")


async def upsert(conn: Connection, doc: Document) -> bool:
    """True when the body was too long for a tsvector and only its beginning is indexed."""
    truncated: bool = await conn.fetchval(
        _UPSERT,
        uuid.UUID(doc.article_id),
        doc.language,
        doc.slug,
        doc.title,
        doc.section,
        doc.tags,
        doc.published_at,
        doc.version,
        doc.config,
        doc.snippet_text,
        doc.lead,
        doc.body,
    )
    return truncated


async def remove(conn: Connection, article_id: uuid.UUID) -> None:
    await conn.execute(_REMOVE, article_id)


async def search(
    conn: Connection,
    *,
    q: str,
    language: str | None,
    config: str,
    section: str | None,
    tag: str | None,
    limit: int,
    offset: int,
) -> list[SearchHit]:
    rows = await conn.fetch(SEARCH, q, language, config, section, tag, limit, offset)
    return [
        SearchHit(
            id=r["article_id"],
            slug=r["slug"],
            language=r["language"],
            title=r["title"],
            section=r["section"],
            published_at=r["published_at"],
            score=round(float(r["rank"]), 6),
            snippet=r["snippet"],
        )
        for r in rows
    ]
