"""RabbitMQ for event tests: a per-test exchange prefix and a tap queue that sees every event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aio_pika
import asyncpg
import httpx2
import orjson
import pytest
from aio_pika.abc import AbstractIncomingMessage
from prometheus_client import CollectorRegistry

from cms.app import create_ops_app
from cms.events.relay import Relay
from cms.settings import Settings
from consumers import process
from consumers.runtime import topology
from consumers.runtime.spec import ConsumerSpec
from consumers.search import SPEC as SEARCH
from tests.conftest import AMQP_URL as AMQP_URL  # re-exported for the event tests


class EventTap:
    """A queue bound with `#` to the test's exchange: everything the relay publishes lands here."""

    def __init__(self, messages: asyncio.Queue[AbstractIncomingMessage]) -> None:
        self.messages = messages
        self.seen: list[AbstractIncomingMessage] = []

    async def take(self, count: int, within: float = 10.0) -> list[AbstractIncomingMessage]:
        taken = []
        async with asyncio.timeout(within):
            for _ in range(count):
                taken.append(await self.messages.get())
        return taken

    async def quiet(self, seconds: float = 0.5) -> list[AbstractIncomingMessage]:
        """Whatever else arrives within `seconds` (expected: nothing)."""
        await asyncio.sleep(seconds)
        extra = []
        while not self.messages.empty():
            extra.append(self.messages.get_nowait())
        return extra


def body(message: AbstractIncomingMessage) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(message.body)
    return decoded


@pytest.fixture
def event_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"amqp_url": AMQP_URL, "relay_poll_interval": 0.2, "scheduler_interval": 0.2}
    )


@pytest.fixture
async def tap(event_settings: Settings) -> AsyncIterator[EventTap]:
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        event_settings.exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(f"{event_settings.amqp_prefix}.tap", durable=False, auto_delete=False)
    await queue.bind(exchange, "#")
    received: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()

    async def on_message(message: AbstractIncomingMessage) -> None:
        await message.ack()
        await received.put(message)

    await queue.consume(on_message)
    yield EventTap(received)
    await queue.delete(if_unused=False, if_empty=False)
    await exchange.delete()
    await connection.close()


RelayStarter = Callable[..., "contextlib.AbstractAsyncContextManager[Relay]"]


@pytest.fixture
def running_relay(event_settings: Settings) -> RelayStarter:
    """`async with running_relay(registry=..., **setting_overrides) as relay:` a relay task for
    the block, its metrics in `registry` if given."""

    @contextlib.asynccontextmanager
    async def start(*, registry: CollectorRegistry | None = None, **overrides: Any) -> AsyncIterator[Relay]:
        relay = Relay(event_settings.model_copy(update=overrides), registry)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            yield relay
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)

    return start


@pytest.fixture
def consumer_settings(event_settings: Settings) -> Settings:
    return event_settings.model_copy(
        update={"consumer_retry_delays": (0.2, 0.4), "consumer_max_attempts": 3, "consumer_prefetch": 8}
    )


@contextlib.asynccontextmanager
async def running_consumer(spec: ConsumerSpec, settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
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


@pytest.fixture
async def search_app(consumer_settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    async with running_consumer(SEARCH, consumer_settings) as client:
        yield client


async def is_ready(client: httpx2.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def delete_consumer_queues(settings: Settings, queue: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    # As many retry queues as any run could have declared (subprocesses use the defaults).
    await topology.delete(channel, queue, max(len(settings.consumer_retry_delays), 8))
    await connection.close()


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0, every: float = 0.05) -> None:
    """Wait until `check()` is true; fail after `within` seconds."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 (polling another component's progress)
            await asyncio.sleep(every)


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
