"""What editors do to a post: approve one waiting for review (optionally with edited text)
and retry a failed one. Each action locks the article's channel, claims the post in a committed
transaction, then calls the network, as the consumer does, so an action never races a delivery."""

from __future__ import annotations

import uuid
from typing import Literal

from cms.platform.db import Connection
from cms.platform.errors import Conflict, InvalidInput, NotFound
from consumers.runtime.errors import TransientError
from consumers.social import delivery, store
from consumers.social.channels import Channel
from consumers.social.handler import Social
from consumers.social.store import Post

Action = Literal["approve", "retry"]


async def act(
    conn: Connection, social: Social, post_id: uuid.UUID, action: Action, *, text: str | None, by: str | None
) -> Post:
    """Approve or retry one post; 404 for an unknown post, 409 when the action does not apply,
    422 when edited text does not fit the channel."""
    found = await store.get(conn, post_id)
    if found is None:
        raise NotFound(f"no social post {post_id}")
    channel = social.channel(found.channel)
    if channel is None or not channel.sends:
        raise Conflict(f"channel {found.channel!r} is not configured to send (compose only)")
    if text is not None:
        _check_text(channel, text)
    await conn.execute(delivery.LOCK, str(found.article_id), found.channel)
    try:
        return await _locked(conn, channel, post_id, action, text, by)
    finally:
        await conn.execute(delivery.UNLOCK, str(found.article_id), found.channel)


def _check_text(channel: Channel, text: str) -> None:
    problem = "the text is empty" if not text.strip() else channel.profile.problem(text)
    if problem is not None:
        raise InvalidInput(
            f"the text does not fit {channel.name}: {problem}", [{"loc": ["body", "text"], "msg": problem}]
        )


async def _locked(
    conn: Connection, channel: Channel, post_id: uuid.UUID, action: Action, text: str | None, by: str | None
) -> Post:
    """Claim (committed), then call the network; a retryable failure leaves the post `failed`
    with the network's words, for the editor to retry."""
    async with conn.transaction():
        post = await store.lock_by_id(conn, post_id)
        assert post is not None
        if action == "approve" and post.status != "ready":
            raise Conflict(f"only a post that is ready can be approved; this one is {post.status}")
        if action == "retry" and post.status != "failed":
            raise Conflict(f"only a failed post can be retried; this one is {post.status}")
        if post.article_live and post.remote_id is None:
            post = await store.claim(conn, post.id, "sending", text=text, by=by, restart=action == "retry")
        elif not post.article_live and action == "retry" and (post.remote_id or post.maybe_sent):
            post = await store.claim(conn, post.id, "retracting")
        else:
            raise Conflict("the article is not published now, so there is nothing to send")
    try:
        if post.status == "retracting":
            return await delivery.retract(conn, channel, post)
        return await delivery.send(conn, channel, post)
    except TransientError as exc:
        return await store.set_status(conn, post.id, "failed", str(exc))
