"""SQL for `article_takedowns`: who killed or restored an article, when, and why.

The reason is a legal record: it lives here, never in the article, its events or delivery.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from cms.platform.db import Connection

Action = Literal["kill", "restore"]


class Takedown(BaseModel):
    article_version: int
    action: Action
    reason: str
    actor: str
    created_at: datetime


_INSERT = """
INSERT INTO article_takedowns (article_id, article_version, action, reason, actor, created_at)
VALUES ($1, $2, $3, $4, $5, $6)"""
_OF_ARTICLE = """
SELECT article_version, action, reason, actor, created_at FROM article_takedowns
WHERE article_id = $1 ORDER BY id"""


async def add(
    conn: Connection,
    article_id: uuid.UUID,
    version: int,
    action: Action,
    *,
    reason: str,
    actor: str,
    at: datetime,
) -> None:
    await conn.execute(_INSERT, article_id, version, action, reason, actor, at)


async def of_article(conn: Connection, article_id: uuid.UUID) -> list[Takedown]:
    """Oldest first."""
    return [Takedown.model_validate(dict(row)) for row in await conn.fetch(_OF_ARTICLE, article_id)]
