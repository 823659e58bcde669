"""Bluesky (AT Protocol): a session, then `com.atproto.repo.putRecord` of an
`app.bsky.feed.post` under a record key derived from article, channel and generation.

Not `createRecord`: with a record key that already exists it answers 500 (seen against
Bluesky's own PDS), while `putRecord` of the same record again changes nothing. So a retry
after a crash between the call and our record of it writes the same post, never a second.
The record carries link and hashtag facets (UTF-8 byte offsets) and an external embed card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx2

from consumers.social import remote, richtext, tid
from consumers.social.remote import Outgoing, OutgoingReply, Published, Refused

NETWORK = "Bluesky"
COLLECTION = "app.bsky.feed.post"


@dataclass
class Session:
    did: str
    access_jwt: str


@dataclass
class Bluesky:
    service: str  # the PDS, e.g. https://bsky.social
    identifier: str  # handle or DID
    password: str  # an app password
    web_url: str = "https://bsky.app"
    timeout: float = 10.0
    key_lifetime: timedelta | None = None  # a record key does not expire
    _session: Session | None = field(default=None, repr=False)

    def _xrpc(self, method: str) -> str:
        return f"{self.service.rstrip('/')}/xrpc/{method}"

    async def _login(self, http: httpx2.AsyncClient) -> Session:
        response = await http.post(
            self._xrpc("com.atproto.server.createSession"),
            json={"identifier": self.identifier, "password": self.password},
        )
        remote.check(response, NETWORK)
        body = response.json()
        self._session = Session(did=str(body["did"]), access_jwt=str(body["accessJwt"]))
        return self._session

    async def _call(self, http: httpx2.AsyncClient, method: str, body: dict[str, Any]) -> httpx2.Response:
        """With the cached session; logs in again once if the token expired."""
        session = self._session or await self._login(http)
        for fresh in (False, True):
            response = await http.post(
                self._xrpc(method),
                json={**body, "repo": session.did},
                headers={"Authorization": f"Bearer {session.access_jwt}"},
            )
            if response.status_code not in (400, 401) or fresh or not _expired(response):
                return response
            session = await self._login(http)
        return response

    async def publish(self, post: Outgoing) -> Published:
        async with remote.client(self.timeout) as http:
            return await self._put(http, post.key, post_record(post))

    async def _put(self, http: httpx2.AsyncClient, key: str, record: dict[str, Any]) -> Published:
        response = await self._call(
            http, "com.atproto.repo.putRecord", {"collection": COLLECTION, "rkey": key, "record": record}
        )
        remote.check(response, NETWORK)
        uri = response.json().get("uri")
        if not isinstance(uri, str):
            raise Refused(f"{NETWORK} answered {response.status_code} without a record uri")
        did = uri.removeprefix("at://").split("/")[0]
        return Published(remote_id=uri, remote_url=f"{self.web_url.rstrip('/')}/profile/{did}/post/{key}")

    async def reply(self, reply: OutgoingReply) -> Published:
        """A reply needs the parent's strong ref (uri and cid): read from the PDS each time, so it
        works for posts made before we kept anything but the uri."""
        async with remote.client(self.timeout) as http:
            parent = await self._strong_ref(http, reply.parent_key)
            return await self._put(http, reply.key, reply_record(reply, parent))

    async def _strong_ref(self, http: httpx2.AsyncClient, rkey: str) -> dict[str, Any]:
        session = self._session or await self._login(http)
        response = await http.get(
            self._xrpc("com.atproto.repo.getRecord"),
            params={"repo": session.did, "collection": COLLECTION, "rkey": rkey},
        )
        remote.check(response, NETWORK)
        body = response.json()
        if not isinstance(body, dict) or not body.get("uri") or not body.get("cid"):
            raise Refused(f"{NETWORK} answered {response.status_code} without the post's uri and cid")
        own = {"uri": str(body["uri"]), "cid": str(body["cid"])}
        value = body.get("value")
        thread = value.get("reply") if isinstance(value, dict) else None
        root = thread.get("root") if isinstance(thread, dict) else None
        return {"parent": own, "root": root if isinstance(root, dict) else own}

    async def retract_reply(self, reply: OutgoingReply) -> None:
        async with remote.client(self.timeout) as http:
            response = await self._call(
                http, "com.atproto.repo.deleteRecord", {"collection": COLLECTION, "rkey": reply.key}
            )
        remote.check(response, NETWORK)

    async def retract(self, post: Outgoing) -> None:
        """By record key, so it works even when the earlier send's answer was lost."""
        async with remote.client(self.timeout) as http:
            response = await self._call(
                http, "com.atproto.repo.deleteRecord", {"collection": COLLECTION, "rkey": post.key}
            )
        remote.check(response, NETWORK)


def post_record(post: Outgoing) -> dict[str, Any]:
    """The same post always makes the same record (createdAt is the record key's time)."""
    created = tid.time_of(post.key).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record: dict[str, Any] = {
        "$type": COLLECTION,
        "text": post.text,
        "createdAt": created,
        "langs": [post.language],
        "embed": {
            "$type": "app.bsky.embed.external",
            "external": {
                "uri": post.link_url,
                "title": post.card_title,
                "description": post.card_description,
            },
        },
    }
    found = richtext.facets(post.text)
    if found:
        record["facets"] = found
    return record


def reply_record(reply: OutgoingReply, refs: dict[str, Any]) -> dict[str, Any]:
    """`refs`: {"root": strong ref, "parent": strong ref}; the same reply makes the same record."""
    created = tid.time_of(reply.key).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record: dict[str, Any] = {
        "$type": COLLECTION,
        "text": reply.text,
        "createdAt": created,
        "langs": [reply.language],
        "reply": {"root": refs["root"], "parent": refs["parent"]},
    }
    found = richtext.facets(reply.text)
    if found:
        record["facets"] = found
    return record


def _expired(response: httpx2.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error") in ("ExpiredToken", "InvalidToken", "AuthRequired")
