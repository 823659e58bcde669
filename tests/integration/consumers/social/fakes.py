"""Local stand-ins for Mastodon, a Bluesky PDS and a webhook receiver: small Starlette apps
served by uvicorn on 127.0.0.1, implementing the endpoints the social consumer uses, recording
every call, and answering from a script when told to (429, 500, 422, hang, or do the work and
then hang, which is what a crash between the call and its record looks like from outside)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import regex
import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from consumers.social import tid

MASTODON_TOKEN = "mastodon-test-token"
BLUESKY_HANDLE = "newsroom.test"
BLUESKY_PASSWORD = "app-pass-word"
BLUESKY_DID = "did:plc:newsroomtest"
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtd2ViaG9vay10ZXN0cw=="


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class Fake:
    """Calls, a script of answers per endpoint, and a release for hanging requests."""

    calls: list[Call] = field(default_factory=list)
    scripts: dict[str, list[str]] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    def script(self, endpoint: str, *answers: str) -> None:
        """E.g. `script("post", "429:1", "500", "hang", "effect_then_hang", "422")`."""
        self.scripts.setdefault(endpoint, []).extend(answers)

    def calls_to(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]

    async def _record(self, request: Request) -> Any:
        raw = await request.body()
        body = orjson.loads(raw) if raw else None
        self.calls.append(
            Call(request.method, request.url.path, dict(request.headers), body, time.monotonic())
        )
        return body

    async def answer(self, endpoint: str, effect: Callable[[], Awaitable[Response]]) -> Response:
        todo = self.scripts.get(endpoint, [])
        action = todo.pop(0) if todo else "ok"
        if action.startswith("429"):
            seconds = action.partition(":")[2] or "1"
            return JSONResponse({"error": "Too many requests"}, 429, headers={"Retry-After": seconds})
        if action == "500":
            return JSONResponse({"error": "InternalServerError", "message": "boom"}, 500)
        if action == "422":
            return JSONResponse({"error": "Validation failed: Text character limit of 500 exceeded"}, 422)
        if action == "hang":
            await self.release.wait()
            return Response(status_code=503)
        response = await effect()
        if action == "effect_then_hang":
            await self.release.wait()
        return response


class FakeMastodon(Fake):
    def __init__(self) -> None:
        super().__init__()
        self.statuses: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.created = 0
        self._ids = itertools.count(100_000)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/v1/statuses", self.post_status, methods=["POST"]),
                Route("/api/v1/statuses/{id}", self.delete_status, methods=["DELETE"]),
            ]
        )

    async def post_status(self, request: Request) -> Response:
        body = await self._record(request)
        if request.headers.get("authorization") != f"Bearer {MASTODON_TOKEN}":
            return JSONResponse({"error": "The access token is invalid"}, 401)

        async def effect() -> Response:
            key = request.headers.get("idempotency-key")
            if key and key in self.by_key:  # Mastodon answers the status it made for this key
                return JSONResponse(self.statuses.get(self.by_key[key], {"id": self.by_key[key]}))
            status_id = str(next(self._ids))
            status = {
                "id": status_id,
                "url": f"{self.url}/@newsroom/{status_id}",
                "content": body["status"],
                "in_reply_to_id": body.get("in_reply_to_id"),
            }
            self.statuses[status_id] = status
            self.created += 1
            if key:
                self.by_key[key] = status_id
            return JSONResponse(status)

        return await self.answer("post", effect)

    async def delete_status(self, request: Request) -> Response:
        await self._record(request)

        async def effect() -> Response:
            found = self.statuses.pop(request.path_params["id"], None)
            return JSONResponse(found) if found else JSONResponse({"error": "Record not found"}, 404)

        return await self.answer("delete", effect)


class FakeBluesky(Fake):
    def __init__(self) -> None:
        super().__init__()
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.commits = 0

    def app(self) -> Starlette:
        xrpc = "/xrpc/com.atproto"
        return Starlette(
            routes=[
                Route(f"{xrpc}.server.createSession", self.create_session, methods=["POST"]),
                Route(f"{xrpc}.repo.putRecord", self.put_record, methods=["POST"]),
                Route(f"{xrpc}.repo.createRecord", self.create_record, methods=["POST"]),
                Route(f"{xrpc}.repo.deleteRecord", self.delete_record, methods=["POST"]),
                Route(f"{xrpc}.repo.getRecord", self.get_record, methods=["GET"]),
            ]
        )

    @property
    def posts(self) -> list[dict[str, Any]]:
        return [
            record for (collection, _), record in self.records.items() if collection == "app.bsky.feed.post"
        ]

    async def create_session(self, request: Request) -> Response:
        body = await self._record(request)
        if body != {"identifier": BLUESKY_HANDLE, "password": BLUESKY_PASSWORD}:
            return JSONResponse({"error": "AuthenticationRequired", "message": "Invalid identifier"}, 401)
        return JSONResponse(
            {"did": BLUESKY_DID, "handle": BLUESKY_HANDLE, "accessJwt": "access-1", "refreshJwt": "r-1"}
        )

    def _refusal(self, request: Request, body: dict[str, Any]) -> Response | None:
        if request.headers.get("authorization") != "Bearer access-1":
            return JSONResponse({"error": "AuthRequired", "message": "no session"}, 401)
        if body.get("repo") != BLUESKY_DID:
            return JSONResponse({"error": "InvalidRequest", "message": "wrong repo"}, 400)
        if not tid.SYNTAX.match(str(body.get("rkey", ""))):
            return JSONResponse({"error": "InvalidRequest", "message": "Invalid record key"}, 400)
        return None

    async def put_record(self, request: Request) -> Response:
        body = await self._record(request)
        refused = self._refusal(request, body)
        if refused is not None:
            return refused
        record = body["record"]
        if len(regex.findall(r"\X", record["text"])) > 300:  # the PDS counts graphemes
            return JSONResponse({"error": "InvalidRequest", "message": "Record/text must not be longer"}, 400)

        async def effect() -> Response:
            key = (body["collection"], body["rkey"])
            if self.records.get(key) != record:
                self.commits += 1
            self.records[key] = record
            return self._written(key, record)

        return await self.answer("post", effect)

    async def create_record(self, request: Request) -> Response:
        """As seen against Bluesky's PDS: an rkey that exists is a 500, not a conflict."""
        body = await self._record(request)
        key = (body["collection"], body["rkey"])
        if key in self.records:
            return JSONResponse({"error": "InternalServerError", "message": "Internal Server Error"}, 500)
        self.records[key] = body["record"]
        return self._written(key, body["record"])

    def _written(self, key: tuple[str, str], record: dict[str, Any]) -> Response:
        return JSONResponse({"uri": f"at://{BLUESKY_DID}/{key[0]}/{key[1]}", "cid": cid_of(record)})

    async def get_record(self, request: Request) -> Response:
        """Public on a PDS: by repo, collection and record key; 404 RecordNotFound when absent."""
        await self._record(request)
        params = request.query_params
        if params.get("repo") != BLUESKY_DID:
            return JSONResponse({"error": "InvalidRequest", "message": "Could not find repo"}, 400)
        key = (params.get("collection", ""), params.get("rkey", ""))
        record = self.records.get(key)
        if record is None:
            return JSONResponse({"error": "RecordNotFound", "message": "Could not locate record"}, 404)
        uri = f"at://{BLUESKY_DID}/{key[0]}/{key[1]}"
        return JSONResponse({"uri": uri, "cid": cid_of(record), "value": record})

    async def delete_record(self, request: Request) -> Response:
        body = await self._record(request)
        refused = self._refusal(request, body)
        if refused is not None:
            return refused

        async def effect() -> Response:
            self.records.pop((body["collection"], body["rkey"]), None)
            return JSONResponse({})

        return await self.answer("delete", effect)


def cid_of(record: dict[str, Any]) -> str:
    """A content id that changes with the record, as a real CID does."""
    return "bafy" + hashlib.sha256(orjson.dumps(record)).hexdigest()[:40]


class WebhookReceiver(Fake):
    """Verifies every signature; keeps one delivery per `webhook-id`, as a receiver should."""

    def __init__(self) -> None:
        super().__init__()
        self.deliveries: dict[str, dict[str, Any]] = {}
        self.rejected = 0

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.receive, methods=["POST"])])

    @property
    def published(self) -> list[dict[str, Any]]:
        return [d for d in self.deliveries.values() if d["type"] == "social.post.published"]

    @property
    def corrected(self) -> list[dict[str, Any]]:
        return [d for d in self.deliveries.values() if d["type"] == "social.post.corrected"]

    @property
    def retracted(self) -> list[dict[str, Any]]:
        return [d for d in self.deliveries.values() if d["type"] == "social.post.retracted"]

    async def receive(self, request: Request) -> Response:
        raw = await request.body()
        await self._record(request)
        try:
            payload = Webhook(WEBHOOK_SECRET).verify(raw, dict(request.headers))
        except WebhookVerificationError:
            self.rejected += 1
            return JSONResponse({"error": "bad signature"}, 401)

        async def effect() -> Response:
            message_id = request.headers["webhook-id"]
            self.deliveries.setdefault(message_id, payload)
            return JSONResponse({"url": f"https://bridge.test/p/{message_id}"})

        return await self.answer("post", effect)


@contextlib.asynccontextmanager
async def serving(fake: FakeMastodon | FakeBluesky | WebhookReceiver) -> AsyncIterator[None]:
    """Serve the fake on a free port of 127.0.0.1 for the block."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    fake.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        fake.app(),
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        http="h11",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 (waiting for uvicorn to listen)
                await asyncio.sleep(0.01)
        yield
    finally:
        fake.release.set()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


@dataclass
class Networks:
    mastodon: FakeMastodon
    bluesky: FakeBluesky
    webhook: WebhookReceiver

    def channels(self, mode: str = "auto", **only: bool) -> list[dict[str, Any]]:
        every = [
            {
                "name": "mastodon",
                "kind": "mastodon",
                "mode": mode,
                "url": self.mastodon.url,
                "token": MASTODON_TOKEN,
            },
            {
                "name": "bluesky",
                "kind": "bluesky",
                "mode": mode,
                "url": self.bluesky.url,
                "identifier": BLUESKY_HANDLE,
                "password": BLUESKY_PASSWORD,
            },
            {
                "name": "bridge",
                "kind": "webhook",
                "mode": mode,
                "url": f"{self.webhook.url}/hook",
                "secret": WEBHOOK_SECRET,
            },
        ]
        return [channel for channel in every if only.get(str(channel["name"]), True)]


@contextlib.asynccontextmanager
async def networks() -> AsyncIterator[Networks]:
    running = Networks(FakeMastodon(), FakeBluesky(), WebhookReceiver())
    async with serving(running.mastodon), serving(running.bluesky), serving(running.webhook):
        yield running
