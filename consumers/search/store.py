"""SQL for `search.documents`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

import asyncpg
from pydantic import BaseModel, Field

from cms.platform.db import Connection
from consumers.runtime.http import Unavailable
from consumers.search.document import Document
from consumers.search.query import Form, Plan

_COLUMNS_WRITTEN = """article_id, language, slug, title, section, tags, published_at, version, config,
    snippet_text, tsv, truncated"""
_REPLACE = """
ON CONFLICT (article_id) DO UPDATE SET
    language = excluded.language, slug = excluded.slug, title = excluded.title,
    section = excluded.section, tags = excluded.tags, published_at = excluded.published_at,
    version = excluded.version, config = excluded.config, snippet_text = excluded.snippet_text,
    tsv = excluded.tsv, truncated = excluded.truncated, indexed_at = now()"""
_UPSERT = f"""
INSERT INTO search.documents AS d ({_COLUMNS_WRITTEN})
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::regconfig, $10, t.tsv, t.truncated
FROM search.document_tsv($9::regconfig, $4, $11, $12, $6, $13) AS t{_REPLACE}
RETURNING truncated"""
_REMOVE = "DELETE FROM search.documents WHERE article_id = $1"

# Many documents at once (a rebuild, see rebuild.py): copied into a temporary table of the
# session, then indexed into `table` (search.documents or its copy) in one statement, in
# article order. The temporary table empties itself at commit.
_STAGE = """
CREATE TEMPORARY TABLE IF NOT EXISTS staged_documents (
    article_id uuid, language text, slug text, title text, section text, tags text[],
    published_at timestamptz, version integer, config text, snippet_text text,
    lead text, body text, extra text
) ON COMMIT DELETE ROWS"""
_STAGED_COLUMNS = (
    "article_id", "language", "slug", "title", "section", "tags", "published_at", "version",
    "config", "snippet_text", "lead", "body", "extra",
)  # fmt: skip
_UPSERT_STAGED = f"""
INSERT INTO {{table}} AS d ({_COLUMNS_WRITTEN})
SELECT s.article_id, s.language, s.slug, s.title, s.section, s.tags, s.published_at, s.version,
       s.config::regconfig, s.snippet_text, t.tsv, t.truncated
FROM staged_documents s,
     search.document_tsv(s.config::regconfig, s.title, s.lead, s.body, s.tags, s.extra) AS t
ORDER BY s.article_id{_REPLACE}
RETURNING truncated"""

# The query as each configuration parses it: the one of the language asked for, or else those
# of the documents present (a loose scan of documents_config: one probe per configuration,
# rather than all ~30 configurations PostgreSQL has, which multiplied the work of a search).
# Each asked word is OR-ed with its spelling variants ($3, $4, $5: see search.with_variants);
# the query's own size (`nodes`) is what the bounds judge, the variants being bounded apart.
_FORMS = """
WITH RECURSIVE present(config) AS (
    (SELECT config FROM search.documents ORDER BY config LIMIT 1)
    UNION ALL
    SELECT (SELECT d.config FROM search.documents d WHERE d.config > p.config ORDER BY d.config LIMIT 1)
    FROM present p WHERE p.config IS NOT NULL
),
configs(config) AS (
    SELECT config FROM present WHERE config IS NOT NULL AND $2::regconfig IS NULL
    UNION ALL
    SELECT $2::regconfig WHERE $2::regconfig IS NOT NULL
)
SELECT config::text AS config, q::text AS query, querytree(q) AS indexable, numnode(parsed) AS nodes
FROM configs, websearch_to_tsquery(config, $1) AS parsed,
     search.with_variants(parsed, config, $3::text[], $4::text[], $5::regconfig[]) AS q
ORDER BY config::text"""

# Ranking: cover density normalised to 0..1, times a mild recency boost (at most +25 %,
# halving every week), so relevance leads and freshness breaks near-ties.
_RANK = (
    "ts_rank_cd(c.tsv, coalesce(f.query, $1::tsquery), 32)"
    " * (1 + 0.25 / (1 + extract(epoch FROM now() - c.published_at) / 604800.0))"
)
# The candidates are the newest articles the index finds for `narrow` ($2), at most $9: their
# number bounds the work of ranking, phrase checks and snippets whatever the query, where
# ranking every match took 18-35 s for an OR of common words over 30,000 articles. A phrase
# query is then checked against `match` ($1) on those only ($3: no need). Each candidate is
# ranked and highlighted with the query as its own configuration parses it ($4, $5).
#
# Three ways to find them, the same candidates (up to ties of published_at):
# - RUM (`documents_rum`, when the extension is there): the index keeps each posting's
#   published_at and returns the matches newest first, so only the candidates' rows are read.
# - GIN within a recent window ($12: e.g. the last 30 days): the posting lists AND-ed with the
#   published_at range before any row is read, so the rows read are the window's matches, not
#   the archive's. When the window holds at least $9 candidates they are the newest of all.
# - GIN over the whole archive (no window): every match's row is read for its published_at.
#
# For GIN, `narrow` is MATERIALIZED so that the planner does not see its value. When it does
# (a custom plan) and the words are common, it rightly expects most rows to match and reads the
# table, testing each row's tsvector: that detoasts every one of them (0.5 s over 30,000
# articles). Blind, it takes the GIN index's bitmap: posting lists, then only `published_at`.
# RUM needs the value in the index condition to order by; it never reads the table for it.
# GIN orders by an expression (`+ interval '0'`, the same order) that the btree on published_at
# cannot give: else a generic plan walked that btree newest first, testing every row's tsvector
# until it had the candidates, which for a rare word over 1,000,000 articles ran into the
# statement timeout. The btree serves the window's range only.
_FILTERS = """
      AND ($6::text IS NULL OR d.language = $6)
      AND ($7::text IS NULL OR d.section = $7)
      AND ($8::text IS NULL OR d.tags @> ARRAY[$8::text])"""
_COLUMNS = (
    "d.article_id, d.slug, d.language, d.title, d.section, d.published_at, d.config, d.snippet_text, d.tsv"
)
_GIN_CANDIDATES = f"""
q AS MATERIALIZED (SELECT $2::tsquery AS narrow),
candidates AS MATERIALIZED (
    SELECT {_COLUMNS}
    FROM search.documents d, q
    WHERE d.tsv @@ q.narrow{{window}}{_FILTERS}
    ORDER BY d.published_at + interval '0' DESC, d.article_id
    LIMIT $9
)"""
# `<=|`: the distance to a later time, so the nearest first; a fixed time far ahead keeps it
# one plan for every search (float8 seconds, still finer than a millisecond).
_RUM_CANDIDATES = f"""
candidates AS MATERIALIZED (
    SELECT {_COLUMNS}
    FROM search.documents d
    WHERE d.tsv @@ $2::tsquery{_FILTERS}
    ORDER BY d.published_at <=| '2200-01-01 00:00:00+00'::timestamptz
    LIMIT $9
)"""
_SEARCH = f"""
WITH forms AS MATERIALIZED (
    SELECT * FROM unnest($4::regconfig[], $5::tsquery[]) AS f(config, query)
),
{{candidates}},
hits AS (
    SELECT c.article_id, c.slug, c.language, c.title, c.section, c.published_at, c.config,
           c.snippet_text, {_RANK} AS rank,
           coalesce(f.query, $1::tsquery) AS query
    FROM candidates c LEFT JOIN forms f ON f.config = c.config
    WHERE $3::boolean OR c.tsv @@ $1::tsquery
    ORDER BY rank DESC, c.article_id
    LIMIT $10 OFFSET $11
)
SELECT article_id, slug, language, title, section, published_at, rank,
       ts_headline(config, snippet_text, query,
                   'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=12, MaxFragments=2, '
                   'FragmentDelimiter=" … "') AS snippet,
       (SELECT count(*) FROM candidates) AS candidates
FROM hits ORDER BY rank DESC, article_id"""
SEARCH = _SEARCH.format(candidates=_GIN_CANDIDATES.format(window=""))
SEARCH_RECENT = _SEARCH.format(
    candidates=_GIN_CANDIDATES.format(window="\n      AND d.published_at >= now() - $12::interval")
)
SEARCH_RUM = _SEARCH.format(candidates=_RUM_CANDIDATES)

RUM_INDEX = "search.documents_rum"


@dataclass(frozen=True)
class Spelling:
    """Another spelling of a word of the query, for one configuration or (None) for all."""

    asked: str
    variant: str
    config: str | None = None


class SearchTimedOut(Unavailable):
    """The search took longer than public search may hold the database."""

    type_slug = "search-timeout"
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "2"}


def timed_out() -> SearchTimedOut:
    return SearchTimedOut("the search took too long; try again shortly, or with fewer or rarer words")


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


async def upsert(conn: Connection, doc: Document, extra: str = "") -> bool:
    """True when the body was too long for a tsvector and only its beginning is indexed.
    `extra`: words indexed besides the text, at the lowest weight (see additions.py)."""
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
        extra,
    )
    return truncated


async def remove(conn: Connection, article_id: uuid.UUID) -> None:
    await conn.execute(_REMOVE, article_id)


async def upsert_many(conn: Connection, table: str, rows: Sequence[tuple[object, ...]]) -> int:
    """Each row (`staged_row`) into `table` in one statement (in a transaction: the staged
    rows go at commit); how many were too long and are indexed in part."""
    if not rows:
        return 0
    await conn.execute(_STAGE)
    await conn.copy_records_to_table(
        "staged_documents",
        columns=_STAGED_COLUMNS,
        records=rows,
    )
    written = await conn.fetch(_UPSERT_STAGED.format(table=table))
    return sum(1 for r in written if r["truncated"])


def staged_row(d: Document, extra: str) -> tuple[object, ...]:
    """A document and the words added to it (see additions.py), as upsert_many takes them."""
    return (
        uuid.UUID(d.article_id), d.language, d.slug, d.title, d.section, d.tags, d.published_at,
        d.version, d.config, d.snippet_text, d.lead, d.body, extra,
    )  # fmt: skip


async def remove_many(conn: Connection, table: str, article_ids: Sequence[uuid.UUID]) -> None:
    await conn.execute(f"DELETE FROM {table} WHERE article_id = ANY($1::uuid[])", list(article_ids))


async def forms(
    conn: Connection, q: str, config: str | None, variants: Sequence[Spelling] = ()
) -> list[Form]:
    """The query as `config` parses it, or (None) as each configuration of the index does;
    each asked word of `variants` OR-ed with its variant (in its configuration, or all)."""
    try:
        rows = await conn.fetch(
            _FORMS,
            q,
            config,
            [v.asked for v in variants],
            [v.variant for v in variants],
            [v.config for v in variants],
        )
    except asyncpg.QueryCanceledError:
        raise timed_out() from None
    return [Form(r["config"], r["query"], r["indexable"], r["nodes"]) for r in rows]


async def limit_statement_time(conn: Connection, limit: timedelta) -> None:
    """For the rest of the transaction the connection is in (at least 1 ms: 0 means none)."""
    milliseconds = max(1, int(limit.total_seconds() * 1000))
    await conn.execute("SELECT set_config('statement_timeout', $1, true)", f"{milliseconds}ms")


async def search(
    conn: Connection,
    plan: Plan,
    *,
    language: str | None,
    section: str | None,
    tag: str | None,
    candidates: int,
    limit: int,
    offset: int,
    rum: bool,
    windows: Sequence[timedelta],
) -> list[SearchHit]:
    """The page of hits: through the RUM index when `rum`, else through GIN, in each of the
    recent `windows` in turn (the first that holds `candidates` matches holds the newest), and
    over the whole archive when none does."""
    arguments = (
        plan.match,
        plan.narrow,
        plan.exact,
        plan.configs,
        plan.queries,
        language,
        section,
        tag,
        candidates,
        limit,
        offset,
    )
    try:
        if rum:
            rows = await conn.fetch(SEARCH_RUM, *arguments)
        else:
            rows = await _gin_search(conn, arguments, candidates, windows)
    except asyncpg.QueryCanceledError:
        raise timed_out() from None
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


async def _gin_search(
    conn: Connection, arguments: tuple[object, ...], candidates: int, windows: Sequence[timedelta]
) -> list[asyncpg.Record]:
    found, searched = 0, timedelta(0)
    for window in sorted(windows):
        # A window that would hold too few matches at the rate of the one before is skipped:
        # a rare word goes to the whole archive after one window, not after each of them.
        if searched and found * (window / searched) < candidates:
            continue
        rows = await conn.fetch(SEARCH_RECENT, *arguments, window)
        # No row: no match in the window, or a page past its hits; either way the wider search
        # answers the same as this one would have.
        found, searched = (rows[0]["candidates"] if rows else 0), window
        if found >= candidates:
            return rows
    return await conn.fetch(SEARCH, *arguments)


async def has_rum_index(conn: Connection) -> bool:
    """Whether the store has the RUM index (migration 0005 made it where the extension is)."""
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT FROM pg_index WHERE indexrelid = to_regclass($1) AND indisvalid)", RUM_INDEX
    )
    return found


class Indexed(BaseModel):
    """Which version of an article the index holds."""

    article_id: uuid.UUID
    version: int
    indexed_at: datetime


_INDEXED = "SELECT article_id, version, indexed_at FROM search.documents WHERE article_id = $1"


async def indexed(conn: Connection, article_id: uuid.UUID) -> Indexed | None:
    row = await conn.fetchrow(_INDEXED, article_id)
    return None if row is None else Indexed.model_validate(dict(row))
