"""SQL for `article_previews`: preview links, stored by the hash of their token."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from cms.platform.db import Connection


class PreviewInfo(BaseModel):
    """A preview link as editors see it in lists: never its token."""

    id: uuid.UUID
    article_id: uuid.UUID
    version: int | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


_COLUMNS = "id, article_id, version, created_by, created_at, expires_at, revoked_at"
_INSERT = f"""
INSERT INTO article_previews (id, article_id, token_hash, version, created_by, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING {_COLUMNS}"""
_PAGE = f"""
SELECT {_COLUMNS} FROM article_previews
WHERE article_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
ORDER BY created_at DESC, id DESC LIMIT $4"""
_REVOKE = f"""
UPDATE article_previews SET revoked_at = coalesce(revoked_at, now())
WHERE id = $1 AND article_id = $2
RETURNING {_COLUMNS}"""
# Only a link that is neither revoked nor expired, to an article that still exists and was not
# killed: a legal takedown ends every copy, a version pinned from before the kill included.
_ACTIVE = """
SELECT p.article_id, p.version FROM article_previews p
JOIN articles a ON a.id = p.article_id AND a.deleted_at IS NULL AND a.status <> 'killed'
WHERE p.token_hash = $1 AND p.revoked_at IS NULL AND p.expires_at > now()"""


async def insert(
    conn: Connection,
    *,
    article_id: uuid.UUID,
    token_hash: bytes,
    version: int | None,
    created_by: str,
    created_at: datetime,
    expires_at: datetime,
) -> PreviewInfo:
    row = await conn.fetchrow(
        _INSERT, uuid.uuid4(), article_id, token_hash, version, created_by, created_at, expires_at
    )
    assert row is not None  # INSERT ... RETURNING
    return PreviewInfo.model_validate(dict(row))


async def page(
    conn: Connection, article_id: uuid.UUID, *, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[PreviewInfo]:
    at, last_id = after or (None, None)
    rows = await conn.fetch(_PAGE, article_id, at, last_id, limit)
    return [PreviewInfo.model_validate(dict(row)) for row in rows]


async def revoke(conn: Connection, preview_id: uuid.UUID, article_id: uuid.UUID) -> PreviewInfo | None:
    row = await conn.fetchrow(_REVOKE, preview_id, article_id)
    return None if row is None else PreviewInfo.model_validate(dict(row))


async def active(conn: Connection, token_hash: bytes) -> tuple[uuid.UUID, int | None] | None:
    """The article and pinned version (None: the latest) of a link that works now."""
    row = await conn.fetchrow(_ACTIVE, token_hash)
    return None if row is None else (row["article_id"], row["version"])
