"""A webhook receiver on a free port of 127.0.0.1 (Starlette under uvicorn), speaking the real
protocol: it records every request, verifies Standard Webhooks signatures with the
`standardwebhooks` library, and can be taken down and brought back on the same port, answer
slowly, answer from a script (e.g. 410, 503 with Retry-After), or take a request and never
answer it (what a receiver crashing mid-request looks like from outside)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Received:
    webhook_id: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float
    verified: bool
    raw: bytes = b""
    answered: bool = False


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    delay: float = 0.0
    swallow: bool = False  # take requests and never answer them
    script: list[tuple[int, dict[str, str], str]] = field(default_factory=list)  # status, headers, body
    port: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def ids(self) -> set[str]:
        return {r.webhook_id for r in self.received}

    def answered(self) -> list[Received]:
        return [r for r in self.received if r.answered]

    async def receive(self, request: Request) -> Response:
        raw = await request.body()
        headers = dict(request.headers)
        verified = False
        for secret in self.secrets:
            try:
                Webhook(secret).verify(raw, headers)
                verified = True
            except WebhookVerificationError:
                continue
        entry = Received(
            headers.get("webhook-id", ""), headers, orjson.loads(raw), time.monotonic(), verified, raw
        )
        self.received.append(entry)
        if self.swallow:
            await self._release.wait()
            return Response(status_code=503)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.script:
            status, extra, text = self.script.pop(0)
            entry.answered = 200 <= status < 300
            return Response(text, status, headers=extra, media_type="text/plain")
        entry.answered = verified
        return JSONResponse({"ok": verified}, 200 if verified else 401)

    async def start(self) -> None:
        """Listen (on the same port as before, if it ran before)."""
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self._release = asyncio.Event()
        config = uvicorn.Config(
            Starlette(routes=[Route("/hook", self.receive, methods=["POST"])]),
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(10):
            while not self._server.started:  # noqa: ASYNC110 (waiting for uvicorn to listen)
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Down: the port refuses connections; requests in hand are cut off unanswered."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._task, timeout=10)
        self._release.set()
        self._server = self._task = None


@contextlib.asynccontextmanager
async def receiving(**options: Any) -> AsyncIterator[Receiver]:
    receiver = Receiver(**options)
    await receiver.start()
    try:
        yield receiver
    finally:
        receiver._release.set()
        await receiver.stop()
