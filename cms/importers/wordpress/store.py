"""SQL for `wordpress_posts` (what was imported from where) and `wordpress_checkpoints` (where a
REST import stands)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from cms.platform.db import Connection


@dataclass(frozen=True)
class ImportedPost:
    post_id: int
    article_id: uuid.UUID
    article_version: int
    content_hash: str
    see_also: list[str]


_COLUMNS = "post_id, article_id, article_version, content_hash, see_also"
_GET = f"SELECT {_COLUMNS} FROM wordpress_posts WHERE site = $1 AND post_id = $2"
_SAVE = """
INSERT INTO wordpress_posts
    (site, post_id, article_id, article_version, content_hash, permalink, see_also, imported_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (site, post_id) DO UPDATE SET
    article_id = excluded.article_id, article_version = excluded.article_version,
    content_hash = excluded.content_hash, permalink = excluded.permalink,
    see_also = excluded.see_also, imported_at = excluded.imported_at"""
_SET_VERSION = "UPDATE wordpress_posts SET article_version = $3 WHERE site = $1 AND post_id = $2"
_WITH_SEE_ALSO = f"""
SELECT {_COLUMNS} FROM wordpress_posts
WHERE site = $1 AND post_id > $2 AND cardinality(see_also) > 0 ORDER BY post_id LIMIT $3"""
_CHECKPOINT = "SELECT next_page FROM wordpress_checkpoints WHERE site = $1"
_SET_CHECKPOINT = """
INSERT INTO wordpress_checkpoints (site, next_page, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (site) DO UPDATE SET next_page = excluded.next_page, updated_at = excluded.updated_at"""
_CLEAR_CHECKPOINT = "DELETE FROM wordpress_checkpoints WHERE site = $1"


def _post(row: object) -> ImportedPost:
    assert row is not None
    return ImportedPost(**dict(row))  # type: ignore[call-overload]


async def get(conn: Connection, site: str, post_id: int) -> ImportedPost | None:
    row = await conn.fetchrow(_GET, site, post_id)
    return None if row is None else _post(row)


async def save(
    conn: Connection,
    site: str,
    post_id: int,
    *,
    article_id: uuid.UUID,
    article_version: int,
    content_hash: str,
    permalink: str,
    see_also: list[str],
    now: datetime,
) -> None:
    await conn.execute(
        _SAVE, site, post_id, article_id, article_version, content_hash, permalink, see_also, now
    )


async def set_version(conn: Connection, site: str, post_id: int, version: int) -> None:
    await conn.execute(_SET_VERSION, site, post_id, version)


async def with_see_also(conn: Connection, site: str, after: int, limit: int) -> list[ImportedPost]:
    return [_post(row) for row in await conn.fetch(_WITH_SEE_ALSO, site, after, limit)]


async def checkpoint(conn: Connection, site: str) -> int | None:
    found: int | None = await conn.fetchval(_CHECKPOINT, site)
    return found


async def set_checkpoint(conn: Connection, site: str, next_page: int, now: datetime) -> None:
    await conn.execute(_SET_CHECKPOINT, site, next_page, now)


async def clear_checkpoint(conn: Connection, site: str) -> None:
    await conn.execute(_CLEAR_CHECKPOINT, site)
