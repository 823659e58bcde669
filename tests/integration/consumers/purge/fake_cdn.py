"""Local stand-ins for the Fastly and Cloudflare purge APIs (Starlette under uvicorn on a free
loopback port). Each checks a request as the real API does and answers in its shape:

- Fastly, `POST /service/{service_id}/purge`: `Fastly-Key` must be the token (else 401),
  `Surrogate-Key` names 1 to 256 space-separated keys (else 400), `Fastly-Soft-Purge: 1` marks
  the purge soft; the answer maps each key to a purge id.
- Cloudflare, `POST /client/v4/zones/{zone_id}/purge_cache`: `Authorization: Bearer <token>`
  (else 403 with code 10000), a JSON body `{"tags": [...]}` with 1 to 30 tags (else 400), and
  the answer `{"success": true, "errors": [], "messages": [], "result": {"id": ...}}`.

`failures` scripts answers before the real ones, e.g. [(429, {"Retry-After": "1"})]."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SERVICE_ID = "SU1Z0isxPaozGVKXdv0eY"
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "test-token-not-a-secret"
FASTLY_MAX_KEYS = 256
CLOUDFLARE_MAX_TAGS = 30


@dataclass(frozen=True)
class Purge:
    api: str  # "fastly" or "cloudflare"
    keys: tuple[str, ...]
    soft: bool


@dataclass
class FakeCdn:
    purges: list[Purge] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why requests were refused (bad protocol)
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def keys(self, api: str) -> set[str]:
        return {key for purge in self.purges if purge.api == api for key in purge.keys}

    def _scripted(self) -> Response | None:
        if not self.failures:
            return None
        status, headers = self.failures.pop(0)
        return JSONResponse(
            {"success": False, "errors": [{"code": status, "message": "scripted"}]}, status, headers
        )

    async def fastly(self, request: Request) -> Response:
        if request.path_params["service_id"] != SERVICE_ID:
            return self._refuse("fastly: unknown service", 404, {"msg": "Record not found"})
        if request.headers.get("fastly-key") != TOKEN:
            return self._refuse(
                "fastly: bad Fastly-Key", 401, {"msg": "Provided credentials are missing or invalid"}
            )
        keys = tuple(request.headers.get("surrogate-key", "").split())
        if not keys or len(keys) > FASTLY_MAX_KEYS:
            return self._refuse(f"fastly: {len(keys)} keys", 400, {"msg": "Bad request"})
        if (scripted := self._scripted()) is not None:
            return scripted
        self.purges.append(Purge("fastly", keys, request.headers.get("fastly-soft-purge") == "1"))
        return JSONResponse({key: f"{uuid.uuid4().int % 10**8}-{index}" for index, key in enumerate(keys)})

    async def cloudflare(self, request: Request) -> Response:
        if request.path_params["zone_id"] != ZONE_ID:
            return self._cloudflare_error("cloudflare: unknown zone", 404, 7003, "Could not route to zone")
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return self._cloudflare_error("cloudflare: bad token", 403, 10000, "Authentication error")
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            return self._cloudflare_error("cloudflare: not JSON", 400, 6003, "Invalid request headers")
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return self._cloudflare_error("cloudflare: bad JSON", 400, 6007, "Malformed JSON in request body")
        tags = body.get("tags") if isinstance(body, dict) else None
        if set(body) != {"tags"} or not isinstance(tags, list) or not 1 <= len(tags) <= CLOUDFLARE_MAX_TAGS:
            return self._cloudflare_error(f"cloudflare: body {body!r:.80}", 400, 1122, "Invalid tags")
        if (scripted := self._scripted()) is not None:
            return scripted
        self.purges.append(Purge("cloudflare", tuple(tags), soft=False))
        return JSONResponse({"success": True, "errors": [], "messages": [], "result": {"id": ZONE_ID}})

    def _refuse(self, why: str, status: int, body: dict[str, object]) -> Response:
        self.refused.append(why)
        return JSONResponse(body, status)

    def _cloudflare_error(self, why: str, status: int, code: int, message: str) -> Response:
        self.refused.append(why)
        return JSONResponse(
            {
                "success": False,
                "errors": [{"code": code, "message": message}],
                "messages": [],
                "result": None,
            },
            status,
        )


@contextlib.asynccontextmanager
async def fake_cdn() -> AsyncIterator[FakeCdn]:
    """Both APIs on one free loopback port, for the length of the block."""
    cdn = FakeCdn()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    cdn.port = sock.getsockname()[1]
    routes = [
        Route("/service/{service_id}/purge", cdn.fastly, methods=["POST"]),
        Route("/client/v4/zones/{zone_id}/purge_cache", cdn.cloudflare, methods=["POST"]),
    ]
    config = uvicorn.Config(
        Starlette(routes=routes), log_level="warning", access_log=False, lifespan="off", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 (waiting for uvicorn to listen)
                await asyncio.sleep(0.01)
        yield cdn
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
