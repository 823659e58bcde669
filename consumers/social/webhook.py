"""A signed webhook for any other network or a bridge: a JSON POST signed per Standard
Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<HMAC-SHA256>`).

The `webhook-id` is the post's idempotency key: receivers deduplicate on it, so a retry after
a crash is the same message, not a new post. A retraction is a second message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook as Signer

from consumers.social import remote
from consumers.social.remote import Outgoing, OutgoingReply, Published

NETWORK = "the webhook"


@dataclass
class Webhook:
    url: str
    secret: str
    timeout: float = 10.0
    key_lifetime: timedelta | None = timedelta(minutes=50)

    async def publish(self, post: Outgoing) -> Published:
        payload = {
            "type": "social.post.published",
            "post": _post(post),
        }
        answer = await self._send(post.key, payload)
        remote_id = answer.get("id") if isinstance(answer.get("id"), str) else None
        remote_url = answer.get("url") if isinstance(answer.get("url"), str) else None
        return Published(remote_id=remote_id or post.key, remote_url=remote_url)

    async def retract(self, post: Outgoing) -> None:
        payload = {"type": "social.post.retracted", "post": _post(post)}
        await self._send(f"{post.key}-retract", payload)

    async def reply(self, reply: OutgoingReply) -> Published:
        """A correction notice: the receiver threads it under the post it names."""
        payload = {"type": "social.post.corrected", "correction": _reply(reply)}
        answer = await self._send(reply.key, payload)
        remote_url = answer.get("url") if isinstance(answer.get("url"), str) else None
        return Published(remote_id=reply.key, remote_url=remote_url)

    async def retract_reply(self, reply: OutgoingReply) -> None:
        payload = {"type": "social.correction.retracted", "correction": _reply(reply)}
        await self._send(f"{reply.key}-retract", payload)

    async def _send(self, message_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = orjson.dumps(payload).decode()
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Signer(self.secret).sign(message_id, now, body),
        }
        async with remote.client(self.timeout) as http:
            response = await http.post(self.url, content=body.encode(), headers=headers)
        remote.check(response, NETWORK)
        try:
            answer = response.json()
        except ValueError:
            return {}
        return answer if isinstance(answer, dict) else {}


def _post(post: Outgoing) -> dict[str, Any]:
    return {
        "id": post.key,
        "article_id": str(post.article_id),
        "channel": post.channel,
        "text": post.text,
        "url": post.link_url,
        "title": post.card_title,
        "description": post.card_description,
        "language": post.language,
        "remote_id": post.remote_id,
    }


def _reply(reply: OutgoingReply) -> dict[str, Any]:
    return {
        "id": reply.key,
        "article_id": str(reply.article_id),
        "correction_id": str(reply.correction_id),
        "channel": reply.channel,
        "text": reply.text,
        "url": reply.link_url,
        "language": reply.language,
        "in_reply_to": reply.parent_key,
        "in_reply_to_remote_id": reply.parent_remote_id,
    }
