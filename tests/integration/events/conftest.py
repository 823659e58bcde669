"""RabbitMQ for event tests: a per-test exchange prefix and a tap queue that sees every event."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import aio_pika
import orjson
import pytest
from aio_pika.abc import AbstractIncomingMessage

from cms.events.relay import Relay
from cms.settings import Settings

AMQP_URL = os.environ.get("CMS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


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
    """`async with running_relay(**setting_overrides) as relay:` a relay task for the block."""

    @contextlib.asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Relay]:
        relay = Relay(event_settings.model_copy(update=overrides))
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            yield relay
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)

    return start
