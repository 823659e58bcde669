"""Reads from a replica, falling back to the primary; 503 with Retry-After for what needs the primary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
import pytest
from starlette.applications import Starlette

from cms.app import create_app
from cms.system import SystemSettings
from tests.helpers import bearer, create_draft, publish
from tests.proxy import TcpProxy


def _through(proxy: TcpProxy, dsn: str) -> str:
    return dsn.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")


@pytest.fixture
async def published(api: httpx2.AsyncClient, token: dict[str, str]) -> dict[str, object]:
    return await publish(api, token["editor"], await create_draft(api, token["editor"], slug="live"))


@asynccontextmanager
async def _client(application: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            yield client


async def test_delivery_reads_keep_working_when_the_replica_goes_away(
    settings: SystemSettings, published: dict[str, object]
) -> None:
    """With the replica cut off, delivery reads fall back to the primary and answer the same."""
    async with TcpProxy("127.0.0.1", 5432) as replica:
        application = create_app(
            settings.model_copy(update={"database_replica_url": _through(replica, settings.database_url)})
        )
        async with _client(application) as client:
            via_replica = await client.get("/v1/content/articles/live")
            replica.cut()
            via_primary = await client.get("/v1/content/articles/live")
            listing = await client.get("/v1/content/articles")

    assert via_replica.status_code == via_primary.status_code == listing.status_code == 200
    assert via_primary.json() == via_replica.json()


async def test_with_the_primary_down_reads_come_from_the_replica_and_writes_get_503_with_retry_after(
    settings: SystemSettings, token: dict[str, str], published: dict[str, object]
) -> None:
    """Primary cut off: reads come from the replica, writes and /readyz get 503; writes resume after."""
    async with TcpProxy("127.0.0.1", 5432) as primary:
        application = create_app(
            settings.model_copy(
                update={
                    "database_url": _through(primary, settings.database_url),
                    "database_replica_url": settings.database_url,
                    "database_connect_timeout": 1.0,
                }
            )
        )
        async with _client(application) as client:
            primary.cut()
            read = await client.get("/v1/content/articles/live")
            write = await client.post(
                "/v1/admin/articles", json={"title": "x", "language": "de"}, headers=bearer(token["editor"])
            )
            ready = await client.get("/readyz")
            primary.restore()
            recovered = await client.post(
                "/v1/admin/articles", json={"title": "y", "language": "de"}, headers=bearer(token["editor"])
            )

    assert read.status_code == 200
    assert write.status_code == 503
    assert write.headers["content-type"] == "application/problem+json"
    assert "retry-after" in write.headers
    assert ready.status_code == 503
    assert recovered.status_code == 201
