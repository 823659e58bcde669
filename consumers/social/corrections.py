"""Correction notices: each correction of a live article goes out once per channel, as a reply
to the channel's post (Mastodon `in_reply_to_id`, a Bluesky reply with root and parent refs, a
webhook `social.post.corrected`), never as a new top-level post.

The same claim discipline as posts (see handler.py): with the post's advisory lock held, a
short committed transaction claims the reply as `sending` with its idempotency key, then the
network is called with that key, then the answer is recorded. A redelivery finds the reply
`sent` and does nothing, or `sending` and repeats the call with the same key.

What gets no reply (recorded as `skipped`, so it never goes out later by surprise): a
correction that came while the channel's post was not out (the post, when it goes, links to the
corrected article), and channels in review mode (an editor approves every word posted there).
When the article stops being live (unpublished, deleted, killed) its replies are retracted
with the post.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import structlog

from cms.events.contract import Article, Correction
from cms.platform.db import Connection
from consumers.runtime.errors import TransientError
from consumers.social import compose, reply_store, store, tid
from consumers.social.channels import Channel
from consumers.social.remote import NotSent, OutgoingReply, Refused, Unresolvable
from consumers.social.reply_store import NewReply, Reply
from consumers.social.store import Post

log = structlog.get_logger(__name__)

KEY_NAMESPACE = uuid.UUID("2c6a1d7e-93b4-4f0a-8e5d-7b1c0f9a4e63")
NOT_OUT = "the channel's post was not out when the correction came: nothing to reply to"
IN_REVIEW = "the channel is in review mode: post the correction there by hand"
RETRACTABLE = ("sent", "retracting")


def needs_work(channel: Channel, article: Article, live: bool, replies: list[Reply]) -> bool:
    """Whether this channel has a correction to claim, send or retract (cheap, no locks)."""
    if not channel.sends:
        return False
    mine = {reply.correction_id: reply for reply in replies if reply.channel == channel.name}
    if live:
        return any(c.id not in mine for c in article.corrections) or any(
            r.status == "sending" for r in mine.values()
        )
    return any(r.status in (*RETRACTABLE, "sending") for r in mine.values())


async def converge(conn: Connection, channel: Channel, article: Article, live: bool, url: str) -> None:
    """Claim (committed), then call the network. Call holding the post's advisory lock."""
    if not channel.sends:
        return
    async with conn.transaction():
        post = await store.lock(conn, article.id, channel.name)
        replies = await reply_store.lock_of_channel(conn, article.id, channel.name)
        todo = await (
            _claim_sends(conn, channel, article, post, replies, url)
            if live
            else _claim_retracts(conn, replies)
        )
    for reply in todo:
        if reply.status == "retracting":
            await retract(conn, channel, reply)
        else:
            await send(conn, channel, reply)


async def _claim_sends(
    conn: Connection,
    channel: Channel,
    article: Article,
    post: Post | None,
    replies: dict[uuid.UUID, Reply],
    url: str,
) -> list[Reply]:
    todo = []
    for correction in article.corrections:
        reply = replies.get(correction.id)
        if reply is None:
            reply = await reply_store.insert(conn, _new(channel, article, correction, post, url))
        if reply.status == "sending":
            todo.append(reply)
    return todo


async def _claim_retracts(conn: Connection, replies: dict[uuid.UUID, Reply]) -> list[Reply]:
    todo = []
    for reply in replies.values():
        if reply.status in RETRACTABLE or (reply.status == "sending" and reply.maybe_sent):
            todo.append(await reply_store.claim(conn, reply.id, "retracting"))
        elif reply.status == "sending":
            await reply_store.mark_retracted(conn, reply.id)  # it never left: nothing to delete
    return todo


def _new(channel: Channel, article: Article, correction: Correction, post: Post | None, url: str) -> NewReply:
    if channel.kind == "bluesky":
        key = tid.reply_key(article.id, channel.name, correction.id, correction.at)
    else:
        key = str(uuid.uuid5(KEY_NAMESPACE, f"{article.id}/{channel.name}/correction/{correction.id}"))
    status, reason = "sending", None
    try:
        text = compose.correction_text(correction.note, url, article.language, channel.profile)
    except compose.LinkTooLong as exc:
        text, status, reason = url, "failed", str(exc)
    if post is None or post.status != "sent" or post.remote_id is None:
        status, reason = "skipped", NOT_OUT
    elif not channel.auto:
        status, reason = "skipped", IN_REVIEW
    return NewReply(
        article_id=article.id,
        channel=channel.name,
        correction_id=correction.id,
        status=status,
        text=text,
        language=article.language,
        link_url=url,
        idempotency_key=key,
        parent_remote_id=post.remote_id if post is not None else None,
        parent_key=post.idempotency_key if post is not None else "",
        last_error=reason,
    )


def outgoing(reply: Reply) -> OutgoingReply:
    return OutgoingReply(
        article_id=reply.article_id,
        channel=reply.channel,
        correction_id=reply.correction_id,
        text=reply.text,
        key=reply.idempotency_key,
        language=reply.language,
        link_url=reply.link_url,
        parent_remote_id=reply.parent_remote_id,
        parent_key=reply.parent_key,
        remote_id=reply.remote_id,
    )


async def send(conn: Connection, channel: Channel, reply: Reply) -> Reply:
    adapter = channel.adapter
    assert adapter is not None
    now = datetime.now(UTC)
    lifetime = adapter.key_lifetime
    started = reply.first_attempt_at
    if reply.maybe_sent and lifetime is not None and started is not None and now - started > lifetime:
        reason = f"an interrupted reply to {channel.kind} is older than its key's memory: check by hand"
        return await reply_store.mark_failed(conn, reply.id, reason, maybe_sent=True)
    before = reply.maybe_sent
    await reply_store.arm(conn, reply.id)
    try:
        published = await adapter.reply(outgoing(reply))
    except Refused as exc:
        log.warning("social.correction_refused", channel=channel.name, error=str(exc))
        return await reply_store.mark_failed(conn, reply.id, str(exc), maybe_sent=before)
    except NotSent as exc:
        await reply_store.note_transient(conn, reply.id, str(exc), maybe_sent=before)
        raise
    except TransientError as exc:
        await reply_store.note_transient(conn, reply.id, str(exc), maybe_sent=True)
        raise
    log.info("social.correction_sent", channel=channel.name, remote_id=published.remote_id)
    return await reply_store.mark_sent(conn, reply.id, published.remote_id, published.remote_url)


async def retract(conn: Connection, channel: Channel, reply: Reply) -> Reply:
    adapter = channel.adapter
    assert adapter is not None
    try:
        await adapter.retract_reply(outgoing(reply))
    except (Refused, Unresolvable) as exc:
        log.warning("social.correction_retract_failed", channel=channel.name, error=str(exc))
        return await reply_store.mark_failed(conn, reply.id, str(exc), maybe_sent=reply.maybe_sent)
    except TransientError as exc:
        await reply_store.note_transient(conn, reply.id, str(exc), reply.maybe_sent)
        raise
    log.info("social.correction_retracted", channel=channel.name, remote_id=reply.remote_id)
    return await reply_store.mark_retracted(conn, reply.id)
