"""SQL for `social.posts`: one function per statement; callers own the transactions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cms.platform.db import Connection

_COLUMNS = """id, article_id, channel, status, text, edited_by, link_url, card_title, card_description,
    language, published_at, generation, idempotency_key, remote_id, remote_url, attempts, last_error,
    maybe_sent, retry_at, article_live, article_version, first_attempt_at, created_at, updated_at,
    sent_at, retracted_at"""


@dataclass(frozen=True)
class Post:
    id: uuid.UUID
    article_id: uuid.UUID
    channel: str
    status: str
    text: str
    edited_by: str | None
    link_url: str
    card_title: str
    card_description: str
    language: str
    published_at: datetime
    generation: int
    idempotency_key: str
    remote_id: str | None
    remote_url: str | None
    attempts: int
    last_error: str | None
    maybe_sent: bool
    retry_at: datetime | None
    article_live: bool
    article_version: int
    first_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    retracted_at: datetime | None


@dataclass(frozen=True)
class Draft:
    """A freshly composed post for an article that is live now."""

    article_id: uuid.UUID
    channel: str
    status: str
    text: str
    link_url: str
    card_title: str
    card_description: str
    language: str
    published_at: datetime
    idempotency_key: str
    article_version: int


def _post(row: Any) -> Post:
    return Post(**dict(row))


async def lock(conn: Connection, article_id: uuid.UUID, channel: str) -> Post | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM social.posts WHERE article_id = $1 AND channel = $2 FOR UPDATE",
        article_id,
        channel,
    )
    return None if row is None else _post(row)


async def lock_by_id(conn: Connection, post_id: uuid.UUID) -> Post | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM social.posts WHERE id = $1 FOR UPDATE", post_id)
    return None if row is None else _post(row)


async def get(conn: Connection, post_id: uuid.UUID) -> Post | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM social.posts WHERE id = $1", post_id)
    return None if row is None else _post(row)


async def of_article(conn: Connection, article_id: uuid.UUID) -> dict[str, Post]:
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM social.posts WHERE article_id = $1", article_id)
    return {row["channel"]: _post(row) for row in rows}


async def insert(conn: Connection, draft: Draft) -> Post:
    row = await conn.fetchrow(
        f"""INSERT INTO social.posts (article_id, channel, status, text, link_url, card_title,
                card_description, language, published_at, idempotency_key, article_version, article_live)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, true)
            RETURNING {_COLUMNS}""",
        draft.article_id,
        draft.channel,
        draft.status,
        draft.text,
        draft.link_url,
        draft.card_title,
        draft.card_description,
        draft.language,
        draft.published_at,
        draft.idempotency_key,
        draft.article_version,
    )
    return _post(row)


async def renew(conn: Connection, post_id: uuid.UUID, draft: Draft, generation: int) -> Post:
    """A new generation for an article published again after its post was retracted."""
    row = await conn.fetchrow(
        f"""UPDATE social.posts SET status = $2, text = $3, edited_by = NULL, link_url = $4,
                card_title = $5, card_description = $6, language = $7, published_at = $8,
                idempotency_key = $9, article_version = $10, generation = $11, article_live = true,
                remote_id = NULL, remote_url = NULL, attempts = 0, last_error = NULL, retry_at = NULL,
                maybe_sent = false, first_attempt_at = NULL,
                sent_at = NULL, retracted_at = NULL, updated_at = now()
            WHERE id = $1 RETURNING {_COLUMNS}""",
        post_id,
        draft.status,
        draft.text,
        draft.link_url,
        draft.card_title,
        draft.card_description,
        draft.language,
        draft.published_at,
        draft.idempotency_key,
        draft.article_version,
        generation,
    )
    return _post(row)


async def recompose(conn: Connection, post_id: uuid.UUID, draft: Draft) -> None:
    await conn.execute(
        """UPDATE social.posts SET text = $2, link_url = $3, card_title = $4, card_description = $5,
               language = $6, article_version = $7, updated_at = now() WHERE id = $1""",
        post_id,
        draft.text,
        draft.link_url,
        draft.card_title,
        draft.card_description,
        draft.language,
        draft.article_version,
    )


async def note_article(conn: Connection, post_id: uuid.UUID, live: bool, version: int) -> None:
    await conn.execute(
        "UPDATE social.posts SET article_live = $2, article_version = $3, updated_at = now() WHERE id = $1",
        post_id,
        live,
        version,
    )


async def claim(
    conn: Connection,
    post_id: uuid.UUID,
    status: str,
    text: str | None = None,
    by: str | None = None,
    restart: bool = False,
) -> Post:
    """`sending` or `retracting`, committed before the network is called. `restart`: an editor
    retries by hand, so the key's memory window starts again."""
    row = await conn.fetchrow(
        f"""UPDATE social.posts SET status = $2, text = coalesce($3, text),
                edited_by = coalesce($4, edited_by), retry_at = NULL, updated_at = now(),
                first_attempt_at = CASE WHEN $5 THEN NULL ELSE first_attempt_at END
            WHERE id = $1 RETURNING {_COLUMNS}""",
        post_id,
        status,
        text,
        by,
        restart,
    )
    return _post(row)


async def arm(conn: Connection, post_id: uuid.UUID) -> None:
    """Right before a send: from now on a request may take effect before we hear its answer."""
    await conn.execute(
        """UPDATE social.posts SET maybe_sent = true, first_attempt_at = coalesce(first_attempt_at, now()),
               updated_at = now() WHERE id = $1""",
        post_id,
    )


async def set_status(conn: Connection, post_id: uuid.UUID, status: str, error: str | None = None) -> Post:
    row = await conn.fetchrow(
        f"""UPDATE social.posts SET status = $2, last_error = coalesce($3, last_error), updated_at = now(),
                retracted_at = CASE WHEN $2 = 'retracted' THEN now() ELSE retracted_at END,
                maybe_sent = CASE WHEN $2 = 'retracted' THEN false ELSE maybe_sent END
            WHERE id = $1 RETURNING {_COLUMNS}""",
        post_id,
        status,
        error,
    )
    return _post(row)


async def mark_sent(conn: Connection, post_id: uuid.UUID, remote_id: str, remote_url: str | None) -> Post:
    row = await conn.fetchrow(
        f"""UPDATE social.posts SET status = 'sent', remote_id = $2, remote_url = $3, maybe_sent = false,
                attempts = attempts + 1, last_error = NULL, retry_at = NULL, sent_at = now(),
                updated_at = now()
            WHERE id = $1 RETURNING {_COLUMNS}""",
        post_id,
        remote_id,
        remote_url,
    )
    return _post(row)


async def mark_failed(conn: Connection, post_id: uuid.UUID, error: str, maybe_sent: bool) -> Post:
    row = await conn.fetchrow(
        f"""UPDATE social.posts SET status = 'failed', last_error = $2, maybe_sent = $3,
                attempts = attempts + 1, updated_at = now()
            WHERE id = $1 RETURNING {_COLUMNS}""",
        post_id,
        error,
        maybe_sent,
    )
    return _post(row)


async def mark_retracted(conn: Connection, post_id: uuid.UUID) -> Post:
    row = await conn.fetchrow(
        f"""UPDATE social.posts SET status = 'retracted', maybe_sent = false, last_error = NULL,
                retry_at = NULL, retracted_at = now(), updated_at = now()
            WHERE id = $1 RETURNING {_COLUMNS}""",
        post_id,
    )
    return _post(row)


async def note_transient(
    conn: Connection, post_id: uuid.UUID, error: str, retry_at: datetime | None, maybe_sent: bool
) -> None:
    """The post stays claimed; the message comes back through the runtime's delay queues."""
    await conn.execute(
        """UPDATE social.posts SET attempts = attempts + 1, last_error = $2, retry_at = $3,
               maybe_sent = $4, updated_at = now() WHERE id = $1""",
        post_id,
        error,
        retry_at,
        maybe_sent,
    )


async def search(
    conn: Connection,
    *,
    article_id: uuid.UUID | None,
    channel: str | None,
    status: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Post]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM social.posts
            WHERE ($1::uuid IS NULL OR article_id = $1) AND ($2::text IS NULL OR channel = $2)
              AND ($3::text IS NULL OR status = $3)
              AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))
            ORDER BY created_at DESC, id DESC LIMIT $6""",
        article_id,
        channel,
        status,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_post(row) for row in rows]
