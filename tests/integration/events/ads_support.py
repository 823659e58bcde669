"""The ads consumer in tests: run with its HTTP face in-process, events sent straight to its queue."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import asyncpg
import httpx2

from cms.app import create_ops_app
from cms.settings import Settings
from consumers import process
from consumers.ads import SPEC as ADS
from tests.helpers import bearer
from tests.integration.events.conftest import AMQP_URL, delete_consumer_queues, eventually


@contextlib.asynccontextmanager
async def running_ads(settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    """The ads consumer as `cms-consumer ads` runs it: worker plus its HTTP face."""
    factory, operations = process.parts(ADS, settings)
    application = create_ops_app(settings, [factory], name="cms-ads", extra_operations=operations)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx2.ASGITransport(app=application)
            async with httpx2.AsyncClient(transport=transport, base_url="http://ads.test") as client:
                await eventually(lambda: _ready(client), within=15)
                yield client
    finally:
        await delete_consumer_queues(settings, ADS.queue(settings))


async def _ready(client: httpx2.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def send(queue: str, *bodies: bytes) -> None:
    """Published to the queue directly (as a redelivery or a replay would arrive), confirmed."""
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel(publisher_confirms=True)
        for payload in bodies:
            await channel.default_exchange.publish(
                aio_pika.Message(payload, content_type="application/cloudevents+json"), queue, mandatory=True
            )
    finally:
        await connection.close()


async def slots_of(ads: httpx2.AsyncClient, article_id: str) -> httpx2.Response:
    return await ads.get(f"/v1/ads/articles/{article_id}/slots")


async def slot_ids(ads: httpx2.AsyncClient, article_id: str) -> dict[str, str]:
    """key -> id of the article's active slots (empty when it has none)."""
    response = await slots_of(ads, article_id)
    if response.status_code == 404:
        return {}
    assert response.status_code == 200, response.text
    return {slot["key"]: slot["id"] for slot in response.json()["slots"]}


async def applied(db: asyncpg.Connection[asyncpg.Record], article_id: str) -> int | None:
    version: int | None = await db.fetchval(
        "SELECT version FROM ads.applied_versions WHERE article_id = $1", article_id
    )
    return version


async def inventory(ads: httpx2.AsyncClient, token: str, **params: str) -> dict[str, Any]:
    response = await ads.get("/v1/ads/inventory", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report
