"""SQL for the `articles` table: one function per statement; driver errors become domain errors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from cms.events.contract import Article
from cms.platform.db import Connection
from cms.platform.errors import SlugTaken

COLUMNS = (
    "id, slug, language, title, lead, body, section, tags, authors, related, corrections, status, "
    "publish_at, unpublish_at, published_at, first_published_at, created_at, updated_at, "
    "deleted_at, killed_at, owner, version, post_to_social"
)
_FIELDS = [c.strip() for c in COLUMNS.split(",")]
_PLACEHOLDERS = ", ".join(f"${i}" for i in range(1, len(_FIELDS) + 1))

_GET = f"SELECT {COLUMNS} FROM articles WHERE id = $1 AND deleted_at IS NULL"
_LOCK = _GET + " FOR UPDATE"
# ON CONFLICT against the partial unique index: a taken slug costs no aborted transaction.
_INSERT = f"""
INSERT INTO articles ({COLUMNS}) VALUES ({_PLACEHOLDERS})
ON CONFLICT (language, slug) WHERE deleted_at IS NULL DO NOTHING
RETURNING id"""
_UPDATE = (
    "UPDATE articles SET "
    + ", ".join(f"{name} = ${i}" for i, name in enumerate(_FIELDS, start=1) if name != "id")
    + " WHERE id = $1"
)
# Deleted ones too: a consumer rebuilding its store must learn that they are gone.
_EVERY_AFTER = f"SELECT {COLUMNS} FROM articles WHERE id > $1 ORDER BY id LIMIT $2"
_COUNT_EVERY = "SELECT count(*) FROM articles"
# The numbered slugs made from one base: only on a collision, so a scan of one language is fine.
_HIGHEST_NUMBER = """
SELECT coalesce(max(substr(slug, length($2) + 2)::numeric), 1) FROM articles
WHERE language = $1 AND deleted_at IS NULL
  AND starts_with(slug, $2 || '-') AND substr(slug, length($2) + 2) ~ '^[0-9]{1,18}$'"""
_EXISTING = "SELECT id FROM articles WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL"
_DUE_TO_PUBLISH = """
SELECT id FROM articles
WHERE status = 'scheduled' AND publish_at <= $1 AND deleted_at IS NULL
ORDER BY publish_at LIMIT $2"""
_DUE_TO_UNPUBLISH = """
SELECT id FROM articles
WHERE status = 'published' AND unpublish_at <= $1 AND deleted_at IS NULL
ORDER BY unpublish_at LIMIT $2"""


def _row_of(article: Article) -> list[Any]:
    data = article.model_dump()
    data["body"] = [block.model_dump(mode="json") for block in article.body]
    data["corrections"] = [correction.model_dump(mode="json") for correction in article.corrections]
    return [data[name] for name in _FIELDS]


def article_of(row: asyncpg.Record) -> Article:
    return Article.model_validate(dict(row))


async def get(conn: Connection, article_id: uuid.UUID) -> Article | None:
    row = await conn.fetchrow(_GET, article_id)
    return None if row is None else article_of(row)


async def lock(conn: Connection, article_id: uuid.UUID) -> Article | None:
    row = await conn.fetchrow(_LOCK, article_id)
    return None if row is None else article_of(row)


async def insert(conn: Connection, article: Article) -> bool:
    """False when the slug is taken in that language (nothing was written)."""
    return await conn.fetchval(_INSERT, *_row_of(article)) is not None


async def highest_number(conn: Connection, language: str, base: str) -> int:
    """The highest N of the live slugs `base-N` in `language`; 1 when there is none (the base
    itself counts as the first)."""
    found = await conn.fetchval(_HIGHEST_NUMBER, language, base)
    return int(found)


async def update(conn: Connection, article: Article) -> None:
    try:
        await conn.execute(_UPDATE, *_row_of(article))
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "articles_live_slug":
            raise SlugTaken(article.slug, article.language) from exc
        raise


async def existing(conn: Connection, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `ids` that name an article that was not deleted."""
    return {row["id"] for row in await conn.fetch(_EXISTING, ids)}


async def due_to_publish(conn: Connection, now: datetime, limit: int) -> list[uuid.UUID]:
    return [row["id"] for row in await conn.fetch(_DUE_TO_PUBLISH, now, limit)]


async def due_to_unpublish(conn: Connection, now: datetime, limit: int) -> list[uuid.UUID]:
    return [row["id"] for row in await conn.fetch(_DUE_TO_UNPUBLISH, now, limit)]


async def every_after(conn: Connection, after: uuid.UUID, limit: int) -> list[Article]:
    """Every article, deleted ones included, in id order: for a full resync."""
    return [article_of(row) for row in await conn.fetch(_EVERY_AFTER, after, limit)]


async def count_every(conn: Connection) -> int:
    found: int = await conn.fetchval(_COUNT_EVERY)
    return found


_SHARE = _GET + " FOR SHARE"


async def share(conn: Connection, article_id: uuid.UUID) -> Article | None:
    """The article, kept from changing or being deleted until the transaction ends (writers
    wait), while other readers that share it go on: for writes beside the article, not to it."""
    row = await conn.fetchrow(_SHARE, article_id)
    return None if row is None else article_of(row)
