"""Mastodon: `POST /api/v1/statuses` with an `Idempotency-Key`, `DELETE /api/v1/statuses/:id`.

Mastodon remembers an Idempotency-Key for about an hour (it answers the status it already
made for that key), so a retry within that window is safe; later than that, only our own
claim row can tell, and `key_lifetime` tells the handler not to try.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from consumers.social import remote
from consumers.social.remote import Outgoing, OutgoingReply, Published, Refused, Unresolvable

NETWORK = "Mastodon"


@dataclass
class Mastodon:
    base_url: str
    token: str
    visibility: str = "public"
    timeout: float = 10.0
    key_lifetime: timedelta | None = timedelta(minutes=50)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def publish(self, post: Outgoing) -> Published:
        return await self._status(post.text, post.language, post.key)

    async def reply(self, reply: OutgoingReply) -> Published:
        if reply.parent_remote_id is None:
            raise Refused("the post to reply to has no Mastodon status id")
        return await self._status(reply.text, reply.language, reply.key, in_reply_to=reply.parent_remote_id)

    async def _status(self, text: str, language: str, key: str, in_reply_to: str | None = None) -> Published:
        body = {"status": text, "visibility": self.visibility, "language": language.split("-")[0]}
        if in_reply_to is not None:
            body["in_reply_to_id"] = in_reply_to
        async with remote.client(self.timeout) as http:
            response = await http.post(
                f"{self.base_url.rstrip('/')}/api/v1/statuses",
                json=body,
                headers={**self._headers(), "Idempotency-Key": key},
            )
        remote.check(response, NETWORK)
        status = response.json()
        if not isinstance(status, dict) or not status.get("id"):
            raise Refused(f"{NETWORK} answered {response.status_code} without a status id")
        return Published(remote_id=str(status["id"]), remote_url=status.get("url"))

    async def retract(self, post: Outgoing) -> None:
        await self._delete(post.remote_id)

    async def retract_reply(self, reply: OutgoingReply) -> None:
        await self._delete(reply.remote_id)

    async def _delete(self, remote_id: str | None) -> None:
        if remote_id is None:
            raise Unresolvable(
                "a send to Mastodon was interrupted and its status id is unknown; "
                "check the account and delete the status by hand if it is there"
            )
        async with remote.client(self.timeout) as http:
            response = await http.delete(
                f"{self.base_url.rstrip('/')}/api/v1/statuses/{remote_id}", headers=self._headers()
            )
        if response.status_code == 404:
            return  # already gone
        remote.check(response, NETWORK)
