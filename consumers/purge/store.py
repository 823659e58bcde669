"""The purge consumer's tables (schema `purge`): what readers saw of each article, and the keys
waiting to be purged. Plain SQL, one function per statement; the caller owns the transaction."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import orjson

from cms.platform.db import Connection
from consumers.purge.keys import Shown

NOTIFY_CHANNEL = "purge_due"


@dataclass(frozen=True)
class Seen:
    """An article as this consumer last applied it."""

    version: int
    shown: Shown
    before: Shown | None


@dataclass(frozen=True)
class Pending:
    key: str
    hard: bool
    seq: int
    changed_at: datetime


_SEEN = "SELECT version, shown, before FROM purge.articles WHERE article_id = $1 FOR UPDATE"
_REMEMBER = """
INSERT INTO purge.articles AS seen (article_id, version, shown, before)
VALUES ($1, $2, $3, $4)
ON CONFLICT (article_id) DO UPDATE
    SET version = excluded.version, shown = excluded.shown, before = excluded.before, updated_at = now()
    WHERE seen.version < excluded.version"""
_QUEUE = """
INSERT INTO purge.pending AS waiting (key, hard, changed_at)
SELECT key, $2, $3 FROM unnest($1::text[]) AS key
ON CONFLICT (key) DO UPDATE
    SET hard = waiting.hard OR excluded.hard,
        seq = nextval('purge.pending_seq'),
        changed_at = least(waiting.changed_at, excluded.changed_at)"""
_DUE = "SELECT key, hard, seq, changed_at FROM purge.pending ORDER BY seq LIMIT $1"
_DONE = """
DELETE FROM purge.pending AS waiting
USING unnest($1::text[], $2::bigint[]) AS taken(key, seq)
WHERE waiting.key = taken.key AND waiting.seq = taken.seq"""


async def seen(conn: Connection, article_id: uuid.UUID) -> Seen | None:
    """The article as last applied, locked until the transaction ends (one article, one writer)."""
    row = await conn.fetchrow(_SEEN, article_id)
    if row is None:
        return None
    return Seen(
        row["version"], _shown(row["shown"]), None if row["before"] is None else _shown(row["before"])
    )


async def remember(
    conn: Connection, article_id: uuid.UUID, version: int, shown: Shown, before: Shown | None
) -> None:
    """Record `version` as applied, unless a newer one already is."""
    await conn.execute(
        _REMEMBER, article_id, version, _json(shown), None if before is None else _json(before)
    )


async def queue(conn: Connection, keys: list[str], *, hard: bool, changed_at: datetime) -> None:
    """Queue `keys` for purging (once each, however often queued) and wake the purge worker."""
    if keys:
        await conn.execute(_QUEUE, keys, hard, changed_at)
        await conn.execute("SELECT pg_notify($1, '')", NOTIFY_CHANNEL)


async def due(conn: Connection, limit: int) -> list[Pending]:
    """The keys waiting longest, at most `limit`."""
    rows = await conn.fetch(_DUE, limit)
    return [Pending(row["key"], row["hard"], row["seq"], row["changed_at"]) for row in rows]


async def done(conn: Connection, purged: list[Pending]) -> None:
    """Forget purged keys, unless one was queued again meanwhile (its `seq` moved on)."""
    await conn.execute(_DONE, [item.key for item in purged], [item.seq for item in purged])


async def waiting(conn: Connection) -> int:
    found: int = await conn.fetchval("SELECT count(*) FROM purge.pending")
    return found


def _json(shown: Shown) -> dict[str, Any]:
    return asdict(shown)


def _shown(value: Any) -> Shown:
    data = orjson.loads(value) if isinstance(value, str | bytes) else value
    return Shown(data["live"], data["section"], tuple(data["tags"]), data["language"])
