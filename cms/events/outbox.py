"""SQL for the `outbox` table: the events written in the transaction of the change."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog

from cms.events.contract import Article, EventKind, envelope
from cms.platform import request_ids
from cms.platform.db import Connection

log = structlog.get_logger(__name__)

_INSERT = """
INSERT INTO outbox (event_id, event_type, article_id, article_version, correlation_id, payload, payload_bytes)
VALUES ($1, $2, $3, $4, $5, $6, octet_length($6::jsonb::text))"""
# Only rows of transactions older than every running one: sequences are taken at INSERT but
# become visible at COMMIT, so a reader paging by sequence would otherwise skip a late commit.
_LOG_PAGE = """
SELECT sequence, payload FROM outbox
WHERE sequence > $1 AND txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY sequence LIMIT $2"""


# The body is built by PostgreSQL: the stored envelope plus its sequence, as JSON text.
# The oldest rows neither sent nor parked, up to $1 rows and $3 payload bytes (but always the
# first row, however large). Sizes come from `payload_bytes`; rows written before it existed
# are measured here. `$2`: rows published already and awaiting their confirms (the relay reads
# ahead meanwhile).
_UNSENT = """
SELECT sequence, event_id, event_type, correlation_id, created_at,
       (payload || jsonb_build_object('sequence', sequence::text))::text AS body
FROM (
    SELECT sequence, event_id, event_type, correlation_id, created_at, payload,
           sum(coalesce(payload_bytes, octet_length(payload::text))) OVER head AS running,
           row_number() OVER head AS position
    FROM outbox
    WHERE sent_at IS NULL AND parked_at IS NULL AND sequence <> ALL($2::bigint[])
    WINDOW head AS (ORDER BY sequence)
    ORDER BY sequence LIMIT $1
) AS head
WHERE position = 1 OR $3::bigint IS NULL OR running <= $3::bigint
ORDER BY sequence"""
_STORED = """
SELECT sequence, event_id, event_type, correlation_id, created_at,
       (payload || jsonb_build_object('sequence', sequence::text))::text AS body
FROM outbox
WHERE sequence > $1 AND ($2::timestamptz IS NULL OR created_at >= $2)
  AND ($3::uuid IS NULL OR article_id = $3) AND parked_at IS NULL
ORDER BY sequence LIMIT $4"""
_COUNT_STORED = """
SELECT count(*) FILTER (WHERE parked_at IS NULL) AS stored,
       count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked
FROM outbox
WHERE ($1::timestamptz IS NULL OR created_at >= $1) AND ($2::uuid IS NULL OR article_id = $2)"""
_MARK_SENT = "UPDATE outbox SET sent_at = now() WHERE sequence = ANY($1::bigint[])"
# Both answered from the partial indexes: their size is the backlog, not the log.
_BACKLOG = """
SELECT pending.count AS pending, coalesce(extract(epoch FROM now() - pending.oldest), 0)::float8 AS oldest,
       (SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL) AS parked
FROM (SELECT count(*), min(created_at) AS oldest
      FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL) AS pending"""
_PARK = """
UPDATE outbox SET parked_at = now(), parked_reason = $2
WHERE sequence = $1 AND sent_at IS NULL AND parked_at IS NULL"""
_PARKED = """
SELECT sequence, event_id, event_type, article_id, correlation_id, parked_reason, parked_at
FROM outbox WHERE parked_at IS NOT NULL ORDER BY sequence LIMIT $1"""
# The relay is woken at once: the rows are its work again.
_UNPARK = """
WITH unparked AS (
    UPDATE outbox SET parked_at = NULL, parked_reason = NULL
    WHERE parked_at IS NOT NULL AND ($1::bigint[] IS NULL OR sequence = ANY($1::bigint[]))
    RETURNING sequence
)
SELECT sequence, pg_notify('cms_outbox', '') FROM unparked ORDER BY sequence"""
_PRUNE = """
DELETE FROM outbox WHERE sequence IN (
    SELECT sequence FROM outbox
    WHERE sent_at IS NOT NULL AND created_at < now() - $1::interval
    ORDER BY sequence LIMIT $2)"""


@dataclass(frozen=True)
class Backlog:
    """The relay's figures: rows waiting, the age of the oldest, and rows parked."""

    pending: int
    oldest_seconds: float
    parked: int


@dataclass(frozen=True)
class Parked:
    """A row the broker or the encoder refused for what it is, out of the relay's way."""

    sequence: int
    event_id: uuid.UUID
    event_type: str
    article_id: uuid.UUID
    correlation_id: str | None
    reason: str
    parked_at: datetime


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
    actor: str | None = None,
) -> uuid.UUID:
    event_id = uuid.uuid4()
    payload = envelope(kind, article, event_id=event_id, time=now, data=data, actor=actor)
    if correlation_id is not None and not request_ids.is_safe(correlation_id):
        # It becomes the message's correlation_id, which the AMQP encoder may refuse; a request
        # id from the API is always safe, so this is a caller's bug: keep the event, not the id.
        log.warning("outbox.correlation_id_dropped", event_id=str(event_id), length=len(correlation_id))
        correlation_id = None
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


async def unsent(
    conn: Connection, limit: int, *, max_bytes: int | None = None, excluding: Sequence[int] = ()
) -> list[Pending]:
    """The oldest rows neither confirmed by the broker nor parked, whatever order they
    committed in, leaving out the sequences in `excluding`: at most `limit` rows and
    `max_bytes` payload bytes, but at least one row if there is any."""
    return [_pending(row) for row in await conn.fetch(_UNSENT, limit, excluding, max_bytes)]


async def stored(
    conn: Connection, *, after: int, since: datetime | None, article_id: uuid.UUID | None, limit: int
) -> list[Pending]:
    """Stored events in sequence order, for a one-off replay. Unlike the pull API it does not
    wait for older transactions: what commits during a replay reaches the queue via the relay."""
    return [_pending(row) for row in await conn.fetch(_STORED, after, since, article_id, limit)]


async def count_stored(
    conn: Connection, *, since: datetime | None, article_id: uuid.UUID | None
) -> tuple[int, int]:
    """How many events a replay sends, and how many parked ones it leaves out."""
    row = await conn.fetchrow(_COUNT_STORED, since, article_id)
    assert row is not None  # an aggregate always answers one row
    return row["stored"], row["parked"]


async def mark_sent(conn: Connection, sequences: list[int]) -> None:
    await conn.execute(_MARK_SENT, sequences)


async def backlog(conn: Connection) -> Backlog:
    row = await conn.fetchrow(_BACKLOG)
    assert row is not None  # an aggregate always answers one row
    return Backlog(pending=row["pending"], oldest_seconds=row["oldest"], parked=row["parked"])


async def park(conn: Connection, sequence: int, reason: str) -> bool:
    """Take a pending row out of the relay's way, with the reason; False if it was not pending."""
    status = await conn.execute(_PARK, sequence, reason)
    return status.split()[-1] == "1"


async def parked(conn: Connection, limit: int | None = None) -> list[Parked]:
    """Parked rows, oldest first: all of them, or the first `limit` (over HTTP)."""
    return [
        Parked(
            sequence=row["sequence"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            article_id=row["article_id"],
            correlation_id=row["correlation_id"],
            reason=row["parked_reason"],
            parked_at=row["parked_at"],
        )
        for row in await conn.fetch(_PARKED, limit)
    ]


async def unpark(conn: Connection, sequences: Sequence[int] | None) -> list[int]:
    """Give parked rows back to the relay (all of them for None); returns those unparked."""
    chosen = None if sequences is None else list(sequences)
    return [row["sequence"] for row in await conn.fetch(_UNPARK, chosen)]


async def prune(conn: Connection, older_than: timedelta, batch: int = 5000) -> int:
    """Delete sent events past retention, a batch at a time; returns how many went."""
    status = await conn.execute(_PRUNE, older_than, batch)
    return int(status.split()[-1])


@dataclass(frozen=True)
class ArticleBacklog:
    """One article's events not yet out: waiting for the relay, or parked."""

    unsent: int
    parked: int
    oldest_unsent_at: datetime | None
    oldest_parked_at: datetime | None


_ARTICLE_BACKLOG = """
SELECT count(*) FILTER (WHERE parked_at IS NULL) AS unsent,
       count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
       min(created_at) FILTER (WHERE parked_at IS NULL) AS oldest_unsent_at,
       min(created_at) FILTER (WHERE parked_at IS NOT NULL) AS oldest_parked_at
FROM outbox WHERE article_id = $1 AND sent_at IS NULL"""


async def article_backlog(conn: Connection, article_id: uuid.UUID) -> ArticleBacklog:
    row = await conn.fetchrow(_ARTICLE_BACKLOG, article_id)
    assert row is not None  # an aggregate always answers one row
    return ArticleBacklog(**dict(row))
