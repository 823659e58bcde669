"""RabbitMQ for the integration tests: settings tuned for quick event tests, a tap queue that
sees every event, a relay started for a block, and settings for consumers under test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage
from prometheus_client import CollectorRegistry

from cms.events.relay import Relay
from cms.system import SystemSettings
from tests.integration.events.helpers import EventTap, RelayStarter
from tests.services import AMQP_URL


@pytest.fixture
def event_settings(settings: SystemSettings) -> SystemSettings:
    return settings.model_copy(
        update={"amqp_url": AMQP_URL, "relay_poll_interval": 0.2, "scheduler_interval": 0.2}
    )


@pytest.fixture
async def tap(event_settings: SystemSettings) -> AsyncIterator[EventTap]:
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


@pytest.fixture
def running_relay(event_settings: SystemSettings) -> RelayStarter:
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
def consumer_settings(event_settings: SystemSettings) -> SystemSettings:
    return event_settings.model_copy(
        update={"consumer_retry_delays": (0.2, 0.4), "consumer_max_attempts": 3, "consumer_prefetch": 8}
    )
