"""SQL for `article_redirects`: old URLs (an imported site's permalinks) and the article each
one became. A redirect names the article, not its URL, so a later slug change keeps it working."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from cms.platform.db import Connection

MAX_PATH = 2048
# The query parameters that name a post by themselves (WordPress's plain permalinks and
# shortlinks: `/?p=123`, `/?page_id=7`); any other query is tracking or paging, not identity.
_IDENTIFYING_QUERY = ("p", "page_id")
_SAFE = "/:@-._~!$&'()*+,;=%"


def normal_path(url: str) -> str | None:
    """The key of an old URL: its path, percent-encoded one way, without a trailing slash, plus
    an identifying query (`?p=123`); the host is left out (http and https, www or not, alike).
    None for what has no usable path (too long, or not a URL at all)."""
    if len(url) > MAX_PATH:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    path = quote(unquote(parts.path), safe=_SAFE.replace("%", ""))
    path = "/" + path.strip("/") if path.strip("/") else "/"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k in _IDENTIFYING_QUERY and v.isdigit()]
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query[:1])
    elif path == "/":
        return None  # the home page is nobody's old permalink
    return path if len(path) <= MAX_PATH else None


# A path already pointing at this article is left as it is (no dead tuple on every re-run).
_ADD = """
INSERT INTO article_redirects (path, article_id, origin, created_at)
SELECT path, $2, $3, $4 FROM unnest($1::text[]) AS path
ON CONFLICT (path) DO UPDATE SET article_id = excluded.article_id
WHERE article_redirects.origin = excluded.origin AND article_redirects.article_id <> excluded.article_id
RETURNING path"""
_TAKEN = "SELECT path FROM article_redirects WHERE path = ANY($1::text[]) AND origin <> $2"
_TARGET = """
SELECT a.id, a.slug, a.language, a.section, a.status, a.deleted_at, a.unpublish_at
FROM article_redirects r JOIN articles a ON a.id = r.article_id
WHERE r.path = $1"""
_ARTICLES_AT = """
SELECT r.path, r.article_id FROM article_redirects r JOIN articles a ON a.id = r.article_id
WHERE r.path = ANY($1::text[]) AND a.deleted_at IS NULL"""
_OF_ARTICLE = "SELECT path FROM article_redirects WHERE article_id = $1 ORDER BY path"


async def add(
    conn: Connection, paths: list[str], article_id: uuid.UUID, *, origin: str, now: datetime
) -> list[str]:
    """Point `paths` at the article; returns those that already belong to another origin
    (another imported site), which keeps them."""
    await conn.execute(_ADD, paths, article_id, origin, now)
    return [row["path"] for row in await conn.fetch(_TAKEN, paths, origin)]


async def target(conn: Connection, path: str) -> dict[str, Any] | None:
    """The article an old path became, with what its URL and liveness need; None if unknown."""
    row = await conn.fetchrow(_TARGET, path)
    return None if row is None else dict(row)


async def articles_at(conn: Connection, paths: list[str]) -> dict[str, uuid.UUID]:
    """Which of `paths` lead to an article that still exists."""
    return {row["path"]: row["article_id"] for row in await conn.fetch(_ARTICLES_AT, paths)}


async def of_article(conn: Connection, article_id: uuid.UUID) -> list[str]:
    return [row["path"] for row in await conn.fetch(_OF_ARTICLE, article_id)]
