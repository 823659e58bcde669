"""Read-side SQL over `articles`: admin lists and what the delivery API shows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from cms.articles.store import COLUMNS, article_of
from cms.events.contract import Article
from cms.platform.db import Connection

# What a site sees of a live article; `related` is expanded to what a "see also" box needs.
LIVE = "status = 'published' AND deleted_at IS NULL AND (unpublish_at IS NULL OR unpublish_at > now())"
_DELIVERY_COLUMNS = (
    "id, slug, language, title, lead, body, section, tags, authors, published_at, "
    "first_published_at, updated_at, version"
)
# "See also" as a site shows it: only the related articles live now, in the editor's order.
_RELATED_OF = """
(SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'slug', r.slug, 'language', r.language,
                                              'title', r.title) ORDER BY pos), '[]'::jsonb)
   FROM unnest({ids}) WITH ORDINALITY AS rel(id, pos)
   JOIN articles r ON r.id = rel.id
  WHERE r.status = 'published' AND r.deleted_at IS NULL
    AND (r.unpublish_at IS NULL OR r.unpublish_at > now()))"""
_RELATED = _RELATED_OF.format(ids="a.related") + " AS related"
# The same for a list of ids given (a preview shows an article that is not, or not yet, live).
_RELATED_LINKS = "SELECT " + _RELATED_OF.format(ids="$1::uuid[]")
# Readers see what was corrected and when; who recorded it stays in the newsroom.
_CORRECTIONS = """
(SELECT coalesce(jsonb_agg(jsonb_build_object('note', c.value->'note', 'at', c.value->'at')
                           ORDER BY c.pos), '[]'::jsonb)
   FROM jsonb_array_elements(a.corrections) WITH ORDINALITY AS c(value, pos)) AS corrections"""
LIVE_BY_SLUG = f"""
SELECT {_DELIVERY_COLUMNS}, {_RELATED}, {_CORRECTIONS}
FROM articles a
WHERE a.slug = $1 AND ($2::text IS NULL OR a.language = $2)
  AND a.status = 'published' AND a.deleted_at IS NULL
  AND (a.unpublish_at IS NULL OR a.unpublish_at > now())
ORDER BY a.published_at DESC LIMIT 1"""
# The same with every "see also" id the editor listed, live or not, for the cache keys: one not
# live yet is not shown, but its publishing changes the page, so the page names it too.
LIVE_BY_SLUG_WITH_RELATED_IDS = f"""
SELECT {_DELIVERY_COLUMNS}, {_RELATED}, {_CORRECTIONS}, a.related AS related_ids
FROM articles a
WHERE a.slug = $1 AND ($2::text IS NULL OR a.language = $2)
  AND a.status = 'published' AND a.deleted_at IS NULL
  AND (a.unpublish_at IS NULL OR a.unpublish_at > now())
ORDER BY a.published_at DESC LIMIT 1"""
_LIVE_PAGE = f"""
SELECT id, slug, language, title, lead, section, tags, authors, published_at, updated_at
FROM articles
WHERE {LIVE}
  AND ($1::text IS NULL OR section = $1)
  AND ($2::text IS NULL OR tags @> ARRAY[$2::text])
  AND ($3::text IS NULL OR language = $3)
  AND ($4::timestamptz IS NULL OR (published_at, id) < ($4, $5))
ORDER BY published_at DESC, id DESC
LIMIT $6"""
# The admin list's filters. `$9` is an ILIKE pattern over the expression that
# articles_admin_text indexes (trigrams): a piece of the title, lead or slug, any status.
_ADMIN_FILTERS = """deleted_at IS NULL
  AND ($1::text IS NULL OR status = $1)
  AND ($2::text IS NULL OR section = $2)
  AND ($3::text IS NULL OR tags @> ARRAY[$3::text])
  AND ($4::text IS NULL OR language = $4)
  AND ($8::text IS NULL OR authors @> ARRAY[$8::text])
  AND ($9::text IS NULL OR (title || ' ' || lead || ' ' || slug) ILIKE $9)"""
# One query per sort, each a keyset over an index. The cursor is (updated_at, id) of the last
# row for every sort; the title sort resumes after that row's title, read by its id.
_ADMIN_PAGES = {
    "updated": f"""
SELECT {COLUMNS} FROM articles
WHERE {_ADMIN_FILTERS}
  AND ($5::timestamptz IS NULL OR (updated_at, id) < ($5, $6))
ORDER BY updated_at DESC, id DESC
LIMIT $7""",
    "oldest": f"""
SELECT {COLUMNS} FROM articles
WHERE {_ADMIN_FILTERS}
  AND ($5::timestamptz IS NULL OR (updated_at, id) > ($5, $6))
ORDER BY updated_at, id
LIMIT $7""",
    "title": f"""
SELECT {COLUMNS} FROM articles
WHERE {_ADMIN_FILTERS}
  AND ($5::timestamptz IS NULL OR (title, id) > ((SELECT title FROM articles WHERE id = $6), $6))
ORDER BY title, id
LIMIT $7""",
}
ADMIN_SORTS = tuple(_ADMIN_PAGES)

After = tuple[datetime, uuid.UUID] | None


async def live_by_slug(conn: Connection, slug: str, language: str | None) -> dict[str, Any] | None:
    """The live article, plus `related_ids`: every "see also" id listed, shown or not."""
    row = await conn.fetchrow(LIVE_BY_SLUG_WITH_RELATED_IDS, slug, language)
    return None if row is None else dict(row)


async def live_page(
    conn: Connection, *, section: str | None, tag: str | None, language: str | None, after: After, limit: int
) -> list[dict[str, Any]]:
    at, last_id = after or (None, None)
    rows = await conn.fetch(_LIVE_PAGE, section, tag, language, at, last_id, limit)
    return [dict(row) for row in rows]


async def admin_page(
    conn: Connection,
    *,
    status: str | None,
    section: str | None,
    tag: str | None,
    language: str | None,
    after: After,
    limit: int,
    author: str | None = None,
    text: str | None = None,
    sort: str = "updated",
) -> list[Article]:
    """`text`: a piece of the title, lead or slug, matched literally and ignoring case."""
    at, last_id = after or (None, None)
    pattern = None if text is None else f"%{_literal(text)}%"
    rows = await conn.fetch(
        _ADMIN_PAGES[sort], status, section, tag, language, at, last_id, limit, author, pattern
    )
    return [article_of(row) for row in rows]


def _literal(text: str) -> str:
    """`text` for LIKE, its wildcards and escape character taken as themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def related_links(conn: Connection, ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """`ids` expanded as delivery expands "see also": the live ones only, in order."""
    found: list[dict[str, Any]] = await conn.fetchval(_RELATED_LINKS, ids) if ids else []
    return found


_IS_LIVE = f"SELECT ({LIVE}) FROM articles WHERE id = $1"
# The editorial calendar: embargoes (scheduled publications) and expiries, in time order.
# unpublish_at always lies after publish_at, so (at, id) names one entry.
_CALENDAR = """
SELECT at, kind, id, slug, language, title, section, status, version, owner FROM (
    SELECT publish_at AS at, 'publish' AS kind, id, slug, language, title, section, status, version, owner
    FROM articles
    WHERE status = 'scheduled' AND deleted_at IS NULL AND publish_at >= $1 AND publish_at < $2
    UNION ALL
    SELECT unpublish_at, 'unpublish', id, slug, language, title, section, status, version, owner
    FROM articles
    WHERE status IN ('published', 'scheduled') AND unpublish_at IS NOT NULL AND deleted_at IS NULL
      AND unpublish_at >= $1 AND unpublish_at < $2
) AS entries
WHERE $3::timestamptz IS NULL OR (at, id) > ($3, $4)
ORDER BY at, id
LIMIT $5"""


async def is_live(conn: Connection, article_id: uuid.UUID) -> bool:
    """Whether the delivery API shows the article now (by the very condition it reads with)."""
    return bool(await conn.fetchval(_IS_LIVE, article_id))


async def calendar(
    conn: Connection, start: datetime, end: datetime, *, after: After, limit: int
) -> list[dict[str, Any]]:
    at, last_id = after or (None, None)
    return [dict(row) for row in await conn.fetch(_CALENDAR, start, end, at, last_id, limit)]
