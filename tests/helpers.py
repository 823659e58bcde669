"""Test helpers that speak the domain."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx2

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    """A real article body (copied from the shared fixtures)."""
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_draft(api: httpx2.AsyncClient, token: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "Stabschefs sprechen miteinander", "language": "de", **fields}
    response = await api.post("/v1/admin/articles", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def patch(
    api: httpx2.AsyncClient, token: str, article: dict[str, Any], version: int | None = None, **fields: Any
) -> httpx2.Response:
    headers = {**bearer(token), "If-Match": f'"{version or article["version"]}"'}
    return await api.patch(f"/v1/admin/articles/{article['id']}", json=fields, headers=headers)


async def action(
    api: httpx2.AsyncClient,
    token: str,
    article: dict[str, Any],
    name: str,
    body: dict[str, Any] | None = None,
) -> httpx2.Response:
    return (
        await api.post(f"/v1/admin/articles/{article['id']}/{name}", json=body, headers=bearer(token))
        if body is not None
        else await api.post(f"/v1/admin/articles/{article['id']}/{name}", headers=bearer(token))
    )


async def publish(api: httpx2.AsyncClient, token: str, article: dict[str, Any]) -> dict[str, Any]:
    response = await action(api, token, article, "publish")
    assert response.status_code == 200, response.text
    published: dict[str, Any] = response.json()
    return published


async def event_types(db: asyncpg.Connection[asyncpg.Record], article_id: str) -> list[str]:
    rows = await db.fetch("SELECT event_type FROM outbox WHERE article_id = $1 ORDER BY sequence", article_id)
    return [row["event_type"] for row in rows]


async def count(db: asyncpg.Connection[asyncpg.Record], table: str) -> int:
    value: int = await db.fetchval(f"SELECT count(*) FROM {table}")
    return value


def free_port() -> int:
    """A port nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0, every: float = 0.05) -> None:
    """Wait until `check()` is true; fail after `within` seconds."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 (polling another component's progress)
            await asyncio.sleep(every)
