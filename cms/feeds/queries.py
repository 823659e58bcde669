"""Read-side SQL for feeds and sitemaps: only articles that are live now, over the delivery index.

Every list is bounded by a LIMIT and walks `articles_delivery` (published_at, id) in key order,
so its cost follows the rows it returns, never the table.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cms.articles.queries import LIVE
from cms.platform.db import Connection

# The window and size of a Google News sitemap (Google's rules: articles of the last two days,
# at most 1,000 per sitemap).
NEWS_WINDOW_HOURS = 48
NEWS_MAX_URLS = 1000

_FEED_SUMMARY_COLUMNS = "id, slug, language, title, lead, section, tags, authors, published_at, updated_at"
_FEED = """
SELECT {columns}
FROM articles
WHERE {live}
  AND ($1::text IS NULL OR section = $1)
  AND ($2::text IS NULL OR tags @> ARRAY[$2::text])
  AND ($3::text IS NULL OR language = $3)
ORDER BY published_at DESC, id DESC
LIMIT $4"""
_FEED_EXCERPTS = _FEED.format(columns=_FEED_SUMMARY_COLUMNS, live=LIVE)
_FEED_FULL = _FEED.format(columns=f"{_FEED_SUMMARY_COLUMNS}, body", live=LIVE)

# The one clock of every feed and sitemap: the newest change to an article that was ever
# published (its edit, unpublish, deletion or kill all set updated_at; articles_changed makes it
# one index probe), or the newest expiry that has passed but that the scheduler has not turned
# into an unpublish yet (articles_unpublish_due). Whatever leaves or enters a feed moves it.
_CHANGED_AT = """
SELECT greatest(
         (SELECT max(updated_at) FROM articles WHERE published_at IS NOT NULL),
         (SELECT max(unpublish_at) FROM articles
           WHERE status = 'published' AND unpublish_at IS NOT NULL AND deleted_at IS NULL
             AND unpublish_at <= now())
       ) AS changed_at,
       clock_timestamp() AS now"""

# Sitemap pages run oldest first, so a new article joins the last page and the earlier pages
# (and their URLs in the index) stay as they were.
_URLS_FROM = f"""
SELECT id, slug, language, section, published_at, updated_at
FROM articles
WHERE {LIVE} AND ($1::timestamptz IS NULL OR (published_at, id) >= ($1, $2))
ORDER BY published_at, id
LIMIT $3"""
_URLS_AFTER = f"""
SELECT id, slug, language, section, published_at, updated_at
FROM articles
WHERE {LIVE} AND (published_at, id) > ($1, $2)
ORDER BY published_at, id
LIMIT $3"""
# One page of the index: its newest change, its size, and where the next page starts.
_PAGE_SUMMARY = f"""
WITH page AS (
    SELECT published_at, id, updated_at, row_number() OVER (ORDER BY published_at, id) AS n
    FROM articles
    WHERE {LIVE} AND ($1::timestamptz IS NULL OR (published_at, id) >= ($1, $2))
    ORDER BY published_at, id
    LIMIT $3 + 1
)
SELECT max(updated_at) FILTER (WHERE n <= $3) AS lastmod,
       count(*) FILTER (WHERE n <= $3) AS urls,
       (array_agg(published_at) FILTER (WHERE n = 1))[1] AS first_at,
       (array_agg(id) FILTER (WHERE n = 1))[1] AS first_id,
       (array_agg(published_at) FILTER (WHERE n = $3 + 1))[1] AS next_at,
       (array_agg(id) FILTER (WHERE n = $3 + 1))[1] AS next_id
FROM page"""
# first_published_at: a story unpublished long ago and published again is not news; every
# such row also has published_at in the window, so the delivery index still bounds the scan.
_NEWS = f"""
SELECT id, slug, language, title, section, first_published_at, updated_at
FROM articles
WHERE {LIVE}
  AND published_at >= now() - make_interval(hours => $1)
  AND first_published_at >= now() - make_interval(hours => $1)
ORDER BY published_at DESC, id DESC
LIMIT $2"""

Key = tuple[datetime, uuid.UUID]


@dataclass(frozen=True)
class Clock:
    changed_at: datetime | None
    now: datetime


@dataclass(frozen=True)
class PageSummary:
    start: Key
    urls: int
    lastmod: datetime
    next_start: Key | None


async def clock(conn: Connection) -> Clock:
    row = await conn.fetchrow(_CHANGED_AT)
    assert row is not None  # a SELECT without FROM always has its one row
    return Clock(changed_at=row["changed_at"], now=row["now"])


async def feed_items(
    conn: Connection,
    *,
    section: str | None,
    tag: str | None,
    language: str | None,
    limit: int,
    full: bool,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(_FEED_FULL if full else _FEED_EXCERPTS, section, tag, language, limit)
    return [dict(row) for row in rows]


async def urls_from(conn: Connection, start: Key | None, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` live articles from `start` (inclusive), oldest first."""
    at, start_id = start or (None, None)
    return [dict(row) for row in await conn.fetch(_URLS_FROM, at, start_id, limit)]


async def urls_after(conn: Connection, after: Key, limit: int) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(_URLS_AFTER, after[0], after[1], limit)]


async def page_summary(conn: Connection, start: Key | None, size: int) -> PageSummary | None:
    """The page of `size` live articles from `start` (inclusive); None if none is left there."""
    at, start_id = start or (None, None)
    row = await conn.fetchrow(_PAGE_SUMMARY, at, start_id, size)
    if row is None or row["urls"] == 0:
        return None
    following = (row["next_at"], row["next_id"]) if row["next_at"] is not None else None
    return PageSummary(
        start=(row["first_at"], row["first_id"]),
        urls=row["urls"],
        lastmod=row["lastmod"],
        next_start=following,
    )


async def news_items(conn: Connection) -> list[dict[str, Any]]:
    return [dict(row) for row in await conn.fetch(_NEWS, NEWS_WINDOW_HOURS, NEWS_MAX_URLS)]
