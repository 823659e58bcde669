"""`cms serve` as operators run it: a real process, real sockets, real signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx2
import pytest

from tests.helpers import free_port
from tests.processes import CMS, Started, started

DRAIN_TIMEOUT = 20.0


@dataclass
class Served:
    running: Started

    @property
    def process(self) -> asyncio.subprocess.Process:
        return self.running.process

    @property
    def port(self) -> int:
        return self.running.port

    @property
    def base_url(self) -> str:
        return self.running.url

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    async def exit_code(self) -> int:
        async with asyncio.timeout(DRAIN_TIMEOUT):
            return await self.process.wait()

    def log_lines(self) -> list[bytes]:
        return [line for line in self.running.output if line.strip()]


@pytest.fixture
async def served(database_url: str) -> AsyncIterator[Served]:
    port = free_port()
    env = {
        **os.environ,
        "CMS_DATABASE_URL": database_url,
        "CMS_LOG_FORMAT": "json",
        "CMS_LOG_LEVEL": "info",
    }
    args = [str(CMS), "serve", "--host", "127.0.0.1", "--port", str(port)]
    async with started(args, port, env=env) as running:
        yield Served(running)


@dataclass
class SlowPost:
    """A create request whose body arrives in two halves, the second only when told."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    rest: bytes

    async def finish(self) -> tuple[int, dict[str, Any]]:
        self.writer.write(self.rest)
        await self.writer.drain()
        async with asyncio.timeout(DRAIN_TIMEOUT):
            raw = await self.reader.read()  # the server closes the connection: it is shutting down
        self.writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        return status, json.loads(body)


async def _start_slow_post(served: Served, token: str, title: str) -> SlowPost:
    body = json.dumps({"title": title, "language": "de"}).encode()
    head = (
        "POST /v1/admin/articles HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{served.port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode()
    half = len(body) // 2
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(head + body[:half])
    await writer.drain()
    # Long enough for the server to have parsed the head and started the request.
    await asyncio.sleep(0.5)
    return SlowPost(reader, writer, body[half:])


async def _refused(port: int, within: float = 5.0) -> bool:
    """Whether a new connection is refused at some point in the next `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except ConnectionRefusedError:
            return True
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.02)
    return False


async def test_sigterm_lets_an_in_flight_request_finish_then_exits_0(
    served: Served, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """`cms serve` on SIGTERM finishes a request whose body is still arriving, stores it, then exits 0."""
    request = await _start_slow_post(served, token["author"], "Ausgeliefert trotz SIGTERM")

    served.terminate()
    await asyncio.sleep(0.3)  # the server has begun shutting down before the body is complete
    assert served.process.returncode is None
    status, article = await request.finish()

    assert status == 201
    assert article["title"] == "Ausgeliefert trotz SIGTERM"
    assert await served.exit_code() == 0
    stored = await db.fetchval("SELECT count(*) FROM articles WHERE id = $1", article["id"])
    assert stored == 1


async def test_after_sigterm_a_new_connection_is_refused_while_draining(
    served: Served, token: dict[str, str]
) -> None:
    """While draining after SIGTERM the server refuses new connections yet completes the one in flight."""
    request = await _start_slow_post(served, token["author"], "Noch unterwegs")

    served.terminate()
    refused = await _refused(served.port)

    assert refused
    assert served.process.returncode is None, "it stopped listening because it is draining, not dead"
    status, _ = await request.finish()
    assert status == 201
    assert await served.exit_code() == 0


async def test_sigterm_when_idle_exits_0(served: Served) -> None:
    """An idle `cms serve` exits 0 on SIGTERM."""
    served.terminate()

    assert await served.exit_code() == 0


async def test_json_log_line_per_request_with_method_path_status_duration_and_request_id(
    served: Served,
) -> None:
    """Each request logs one JSON line with method, path, status, duration and the caller's request id."""
    async with httpx2.AsyncClient(base_url=served.base_url) as client:
        response = await client.get("/v1/content/articles?limit=5", headers={"X-Request-ID": "serve-log-1"})
        missing = await client.get("/v1/content/articles/nichts-da", headers={"X-Request-ID": "serve-log-2"})
    assert (response.status_code, missing.status_code) == (200, 404)
    served.terminate()
    assert await served.exit_code() == 0

    lines = served.log_lines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(record, dict) for record in records)
    by_id = {record.get("request_id"): record for record in records if "status" in record}
    first, second = by_id["serve-log-1"], by_id["serve-log-2"]
    assert (first["method"], first["path"], first["status"]) == ("GET", "/v1/content/articles", 200)
    assert (second["method"], second["path"], second["status"]) == (
        "GET",
        "/v1/content/articles/nichts-da",
        404,
    )
    assert isinstance(first["duration_ms"], int | float)
    assert first["duration_ms"] >= 0
