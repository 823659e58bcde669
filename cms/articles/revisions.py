"""SQL for `article_revisions`: every version of every article, whole."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from cms.events.contract import Article
from cms.platform.db import Connection


class RevisionInfo(BaseModel):
    version: int
    action: str
    actor: str
    created_at: datetime


class Revision(RevisionInfo):
    article: Article


_INSERT = """
INSERT INTO article_revisions (article_id, version, action, actor, created_at, snapshot)
VALUES ($1, $2, $3, $4, $5, $6)"""
_LIST = """
SELECT version, action, actor, created_at FROM article_revisions
WHERE article_id = $1 AND version < $2 ORDER BY version DESC LIMIT $3"""
_GET = """
SELECT version, action, actor, created_at, snapshot FROM article_revisions
WHERE article_id = $1 AND version = $2"""


async def add(
    conn: Connection, article: Article, *, action: str, actor: str, snapshot: dict[str, Any] | None = None
) -> None:
    """`snapshot`: the article already dumped as JSON, when the caller has it."""
    await conn.execute(
        _INSERT,
        article.id,
        article.version,
        action,
        actor,
        article.updated_at,
        snapshot if snapshot is not None else article.model_dump(mode="json"),
    )


async def page(conn: Connection, article_id: uuid.UUID, *, before: int, limit: int) -> list[RevisionInfo]:
    rows = await conn.fetch(_LIST, article_id, before, limit)
    return [RevisionInfo.model_validate(dict(row)) for row in rows]


async def get(conn: Connection, article_id: uuid.UUID, version: int) -> Revision | None:
    row = await conn.fetchrow(_GET, article_id, version)
    if row is None:
        return None
    return Revision(
        version=row["version"],
        action=row["action"],
        actor=row["actor"],
        created_at=row["created_at"],
        article=Article.model_validate(row["snapshot"]),
    )
