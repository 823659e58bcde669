"""What the event tests watch with: a tap on the test's exchange, message bodies, a relay
started for a block."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import orjson
from aio_pika.abc import AbstractIncomingMessage

from cms.events.relay import Relay


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


# What the `running_relay` fixture returns: `async with running_relay(**overrides) as relay:`.
RelayStarter = Callable[..., "contextlib.AbstractAsyncContextManager[Relay]"]
