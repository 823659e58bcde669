"""The network side of a post: send or retract a claimed post and record what came back.

Called with a connection outside any transaction, after the claim (`sending`/`retracting`) was
committed, and holding the post's advisory lock. Each record is its own small commit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog

from cms.platform.db import Connection
from consumers.runtime.errors import TransientError
from consumers.social import store
from consumers.social.channels import Channel
from consumers.social.remote import NotSent, Outgoing, Refused, Unresolvable
from consumers.social.store import Post

log = structlog.get_logger(__name__)

LOCK = "SELECT pg_advisory_lock(hashtextextended($1::text || '/' || $2::text, 0))"
UNLOCK = "SELECT pg_advisory_unlock(hashtextextended($1::text || '/' || $2::text, 0))"


def outgoing(post: Post) -> Outgoing:
    return Outgoing(
        article_id=post.article_id,
        channel=post.channel,
        text=post.text,
        key=post.idempotency_key,
        link_url=post.link_url,
        card_title=post.card_title,
        card_description=post.card_description,
        language=post.language,
        published_at=post.published_at,
        remote_id=post.remote_id,
    )


async def send(conn: Connection, channel: Channel, post: Post) -> Post:
    """Post it once: the same key on every attempt, so the network recognises a repeat."""
    adapter = channel.adapter
    assert adapter is not None
    now = datetime.now(UTC)
    if post.retry_at is not None and post.retry_at > now:
        # The network asked us to wait (Retry-After) and the message came back early.
        raise NotSent("waiting for the network's Retry-After", (post.retry_at - now).total_seconds())
    if _key_forgotten(post, adapter.key_lifetime, now):
        reason = (
            f"a send begun at {post.first_attempt_at} was interrupted and {channel.kind} no longer "
            "remembers its key: check the account, then retry only if the post is not there"
        )
        return await store.mark_failed(conn, post.id, reason, maybe_sent=True)
    before = post.maybe_sent
    await store.arm(conn, post.id)
    try:
        published = await adapter.publish(outgoing(post))
    except Refused as exc:
        log.warning("social.refused", channel=channel.name, error=str(exc))
        return await store.mark_failed(conn, post.id, str(exc), maybe_sent=before)
    except NotSent as exc:
        await store.note_transient(conn, post.id, str(exc), _retry_at(exc, now), maybe_sent=before)
        raise
    except TransientError as exc:
        await store.note_transient(conn, post.id, str(exc), _retry_at(exc, now), maybe_sent=True)
        raise
    log.info("social.sent", channel=channel.name, remote_id=published.remote_id)
    return await store.mark_sent(conn, post.id, published.remote_id, published.remote_url)


async def retract(conn: Connection, channel: Channel, post: Post) -> Post:
    adapter = channel.adapter
    assert adapter is not None
    try:
        await adapter.retract(outgoing(post))
    except (Refused, Unresolvable) as exc:
        log.warning("social.retract_failed", channel=channel.name, error=str(exc))
        return await store.mark_failed(conn, post.id, str(exc), maybe_sent=post.maybe_sent)
    except TransientError as exc:
        await store.note_transient(
            conn, post.id, str(exc), _retry_at(exc, datetime.now(UTC)), post.maybe_sent
        )
        raise
    log.info("social.retracted", channel=channel.name, remote_id=post.remote_id)
    return await store.mark_retracted(conn, post.id)


def _key_forgotten(post: Post, lifetime: timedelta | None, now: datetime) -> bool:
    return (
        post.maybe_sent
        and lifetime is not None
        and post.first_attempt_at is not None
        and now - post.first_attempt_at > lifetime
    )


def _retry_at(exc: TransientError, now: datetime) -> datetime | None:
    return None if exc.retry_after is None else now + timedelta(seconds=exc.retry_after)
