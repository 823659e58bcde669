"""SQL for the `outbox` table: the events written in the transaction of the change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from cms.db import Connection
from cms.events.contract import Article, EventKind, envelope

_INSERT = """
INSERT INTO outbox (event_id, event_type, article_id, article_version, correlation_id, payload)
VALUES ($1, $2, $3, $4, $5, $6)"""
# Only rows of transactions older than every running one: sequences are taken at INSERT but
# become visible at COMMIT, so a reader paging by sequence would otherwise skip a late commit.
_LOG_PAGE = """
SELECT sequence, payload FROM outbox
WHERE sequence > $1 AND txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY sequence LIMIT $2"""


async def add(
    conn: Connection, kind: EventKind, article: Article, *, now: datetime, correlation_id: str | None
) -> uuid.UUID:
    event_id = uuid.uuid4()
    payload = envelope(kind, article, event_id=event_id, time=now)
    await conn.execute(
        _INSERT, event_id, payload["type"], article.id, article.version, correlation_id, payload
    )
    return event_id


def event_of(row: asyncpg.Record) -> dict[str, Any]:
    """The complete CloudEvent: the stored envelope plus its sequence."""
    event: dict[str, Any] = row["payload"]
    event["sequence"] = str(row["sequence"])
    return event


async def log_page(conn: Connection, *, after: int, limit: int) -> list[dict[str, Any]]:
    return [event_of(row) for row in await conn.fetch(_LOG_PAGE, after, limit)]
