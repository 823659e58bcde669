"""SQL for `social.corrections`, the correction replies: one function per statement; callers
own the transactions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cms.platform.db import Connection

_COLUMNS = """id, article_id, channel, correction_id, status, text, language, link_url, idempotency_key,
    parent_remote_id, parent_key, remote_id, remote_url, attempts, last_error, maybe_sent,
    first_attempt_at, created_at, updated_at, sent_at, retracted_at"""


@dataclass(frozen=True)
class Reply:
    id: uuid.UUID
    article_id: uuid.UUID
    channel: str
    correction_id: uuid.UUID
    status: str
    text: str
    language: str
    link_url: str
    idempotency_key: str
    parent_remote_id: str | None
    parent_key: str
    remote_id: str | None
    remote_url: str | None
    attempts: int
    last_error: str | None
    maybe_sent: bool
    first_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    retracted_at: datetime | None


@dataclass(frozen=True)
class NewReply:
    article_id: uuid.UUID
    channel: str
    correction_id: uuid.UUID
    status: str
    text: str
    language: str
    link_url: str
    idempotency_key: str
    parent_remote_id: str | None
    parent_key: str
    last_error: str | None = None


def _reply(row: Any) -> Reply:
    return Reply(**dict(row))


async def of_article(conn: Connection, article_id: uuid.UUID) -> list[Reply]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM social.corrections WHERE article_id = $1", article_id)
    return [_reply(row) for row in rows]


async def lock_of_channel(conn: Connection, article_id: uuid.UUID, channel: str) -> dict[uuid.UUID, Reply]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM social.corrections WHERE article_id = $1 AND channel = $2 FOR UPDATE",
        article_id,
        channel,
    )
    return {row["correction_id"]: _reply(row) for row in rows}


async def insert(conn: Connection, new: NewReply) -> Reply:
    row = await conn.fetchrow(
        f"""INSERT INTO social.corrections (article_id, channel, correction_id, status, text, language,
                link_url, idempotency_key, parent_remote_id, parent_key, last_error)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            RETURNING {_COLUMNS}""",
        new.article_id,
        new.channel,
        new.correction_id,
        new.status,
        new.text,
        new.language,
        new.link_url,
        new.idempotency_key,
        new.parent_remote_id,
        new.parent_key,
        new.last_error,
    )
    return _reply(row)


async def claim(conn: Connection, reply_id: uuid.UUID, status: str) -> Reply:
    row = await conn.fetchrow(
        f"UPDATE social.corrections SET status = $2, updated_at = now() WHERE id = $1 RETURNING {_COLUMNS}",
        reply_id,
        status,
    )
    return _reply(row)


async def arm(conn: Connection, reply_id: uuid.UUID) -> None:
    """Right before a send: from now on a request may take effect before we hear its answer."""
    await conn.execute(
        """UPDATE social.corrections SET maybe_sent = true,
               first_attempt_at = coalesce(first_attempt_at, now()), updated_at = now() WHERE id = $1""",
        reply_id,
    )


async def mark_sent(conn: Connection, reply_id: uuid.UUID, remote_id: str, remote_url: str | None) -> Reply:
    row = await conn.fetchrow(
        f"""UPDATE social.corrections SET status = 'sent', remote_id = $2, remote_url = $3,
                maybe_sent = false, attempts = attempts + 1, last_error = NULL, sent_at = now(),
                updated_at = now()
            WHERE id = $1 RETURNING {_COLUMNS}""",
        reply_id,
        remote_id,
        remote_url,
    )
    return _reply(row)


async def mark_failed(conn: Connection, reply_id: uuid.UUID, error: str, maybe_sent: bool) -> Reply:
    row = await conn.fetchrow(
        f"""UPDATE social.corrections SET status = 'failed', last_error = $2, maybe_sent = $3,
                attempts = attempts + 1, updated_at = now()
            WHERE id = $1 RETURNING {_COLUMNS}""",
        reply_id,
        error,
        maybe_sent,
    )
    return _reply(row)


async def mark_retracted(conn: Connection, reply_id: uuid.UUID) -> Reply:
    row = await conn.fetchrow(
        f"""UPDATE social.corrections SET status = 'retracted', maybe_sent = false, last_error = NULL,
                retracted_at = now(), updated_at = now()
            WHERE id = $1 RETURNING {_COLUMNS}""",
        reply_id,
    )
    return _reply(row)


async def note_transient(conn: Connection, reply_id: uuid.UUID, error: str, maybe_sent: bool) -> None:
    """The reply stays claimed; the message comes back through the runtime's delay queues."""
    await conn.execute(
        """UPDATE social.corrections SET attempts = attempts + 1, last_error = $2, maybe_sent = $3,
               updated_at = now() WHERE id = $1""",
        reply_id,
        error,
        maybe_sent,
    )
