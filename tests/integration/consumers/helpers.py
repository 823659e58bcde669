"""Consumers in tests: run as `cms-consumer NAME` runs them, fed straight through their queue,
and their queues removed afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import asyncpg
import httpx2

from cms.platform.application import create_ops_app
from cms.system import SystemSettings
from consumers import process
from consumers.runtime import topology
from consumers.runtime.spec import ConsumerSpec
from tests.helpers import eventually
from tests.services import AMQP_URL, admin_connection


@contextlib.asynccontextmanager
async def running_consumer(
    spec: ConsumerSpec[Any], settings: SystemSettings
) -> AsyncIterator[httpx2.AsyncClient]:
    """A consumer as `cms-consumer NAME` runs it: the worker plus its HTTP face, ready; its
    queues are removed afterwards."""
    factory, operations = process.parts(spec, settings)
    application = create_ops_app(settings, [factory], name=f"cms-{spec.name}", extra_operations=operations)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx2.ASGITransport(app=application)
            async with httpx2.AsyncClient(transport=transport, base_url=f"http://{spec.name}.test") as client:
                await eventually(lambda: is_ready(client), within=15)
                yield client
    finally:
        await delete_consumer_queues(settings, spec.queue(settings))


async def without_rum(database_url: str) -> None:
    """Tell the test database, before its search store is migrated, to leave RUM out (as a
    managed PostgreSQL without the extension would): search then goes through GIN alone."""
    name = urlsplit(database_url).path.lstrip("/")
    admin = await admin_connection()
    try:
        await admin.execute(f'ALTER DATABASE "{name}" SET cms.search_rum = off')
    finally:
        await admin.close()


async def is_ready(client: httpx2.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def delete_consumer_queues(settings: SystemSettings, queue: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    # As many retry queues as any run could have declared (subprocesses use the defaults).
    await topology.delete(channel, queue, max(len(settings.consumer_retry_delays), 8))
    await connection.close()


async def outbox_events(db: asyncpg.Connection[asyncpg.Record], article_id: str) -> list[bytes]:
    """The article's events exactly as the relay would send them."""
    rows = await db.fetch(
        "SELECT (payload || jsonb_build_object('sequence', sequence::text))::text AS body "
        "FROM outbox WHERE article_id = $1 ORDER BY sequence",
        article_id,
    )
    return [row["body"].encode() for row in rows]


async def send_to_queue(queue: str, *bodies: bytes) -> None:
    """Straight to one consumer's queue, as a redelivery or a replay would arrive."""
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel(publisher_confirms=True)
    for payload in bodies:
        await channel.default_exchange.publish(
            aio_pika.Message(payload, content_type="application/cloudevents+json"), queue, mandatory=True
        )
    await connection.close()
