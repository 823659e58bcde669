"""SQL for the `outbox` table: the events written in the transaction of the change."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
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


# The body is built by PostgreSQL: the stored envelope plus its sequence, as JSON text.
# `$2`: rows published already and awaiting their confirms (the relay reads ahead meanwhile).
_UNSENT = """
SELECT sequence, event_id, event_type, correlation_id, created_at,
       (payload || jsonb_build_object('sequence', sequence::text))::text AS body
FROM outbox WHERE sent_at IS NULL AND sequence <> ALL($2::bigint[]) ORDER BY sequence LIMIT $1"""
_STORED = """
SELECT sequence, event_id, event_type, correlation_id, created_at,
       (payload || jsonb_build_object('sequence', sequence::text))::text AS body
FROM outbox
WHERE sequence > $1 AND ($2::timestamptz IS NULL OR created_at >= $2)
  AND ($3::uuid IS NULL OR article_id = $3)
ORDER BY sequence LIMIT $4"""
_COUNT_STORED = """
SELECT count(*) FROM outbox
WHERE ($1::timestamptz IS NULL OR created_at >= $1) AND ($2::uuid IS NULL OR article_id = $2)"""
_MARK_SENT = "UPDATE outbox SET sent_at = now() WHERE sequence = ANY($1::bigint[])"
_BACKLOG = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
_PRUNE = """
DELETE FROM outbox WHERE sequence IN (
    SELECT sequence FROM outbox
    WHERE sent_at IS NOT NULL AND created_at < now() - $1::interval
    ORDER BY sequence LIMIT $2)"""


@dataclass(frozen=True)
class Pending:
    """An outbox row on its way to the broker."""

    sequence: int
    event_id: uuid.UUID
    event_type: str
    correlation_id: str | None
    created_at: datetime
    body: bytes


async def add(
    conn: Connection,
    kind: EventKind,
    article: Article,
    *,
    now: datetime,
    correlation_id: str | None,
    data: dict[str, Any] | None = None,
) -> uuid.UUID:
    event_id = uuid.uuid4()
    payload = envelope(kind, article, event_id=event_id, time=now, data=data)
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


def _pending(row: asyncpg.Record) -> Pending:
    return Pending(
        sequence=row["sequence"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        correlation_id=row["correlation_id"],
        created_at=row["created_at"],
        body=row["body"].encode(),
    )


async def unsent(conn: Connection, limit: int, *, excluding: Sequence[int] = ()) -> list[Pending]:
    """The oldest rows not yet confirmed by the broker, whatever order they committed in,
    leaving out the sequences in `excluding`."""
    return [_pending(row) for row in await conn.fetch(_UNSENT, limit, excluding)]


async def stored(
    conn: Connection, *, after: int, since: datetime | None, article_id: uuid.UUID | None, limit: int
) -> list[Pending]:
    """Stored events in sequence order, for a one-off replay. Unlike the pull API it does not
    wait for older transactions: what commits during a replay reaches the queue via the relay."""
    return [_pending(row) for row in await conn.fetch(_STORED, after, since, article_id, limit)]


async def count_stored(conn: Connection, *, since: datetime | None, article_id: uuid.UUID | None) -> int:
    found: int = await conn.fetchval(_COUNT_STORED, since, article_id)
    return found


async def mark_sent(conn: Connection, sequences: list[int]) -> None:
    await conn.execute(_MARK_SENT, sequences)


async def backlog(conn: Connection) -> int:
    found: int = await conn.fetchval(_BACKLOG)
    return found


async def prune(conn: Connection, older_than: timedelta, batch: int = 5000) -> int:
    """Delete sent events past retention, a batch at a time; returns how many went."""
    status = await conn.execute(_PRUNE, older_than, batch)
    return int(status.split()[-1])
