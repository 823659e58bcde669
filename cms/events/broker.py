"""The broker edge of the relay: one connection, one confirming channel, the events exchange.

One channel on purpose: RabbitMQ keeps publish order per channel, a pool of channels does not.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from types import TracebackType

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractChannel, AbstractExchange

from cms.events.contract import routing_key
from cms.events.outbox import Pending

log = structlog.get_logger(__name__)

CONTENT_TYPE = "application/cloudevents+json"

# What a lost or refusing broker looks like from aio-pika; all mean "reconnect and retry".
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    aio_pika.exceptions.AMQPError,
    aiormq.exceptions.AMQPError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
    RuntimeError,  # aiormq raises it for writes on a closed connection
)


def message_of(row: Pending) -> aio_pika.Message:
    return aio_pika.Message(
        body=row.body,
        content_type=CONTENT_TYPE,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=str(row.event_id),
        correlation_id=row.correlation_id,
        type=row.event_type,
        timestamp=row.created_at,
        app_id="cms",
    )


class Broker:
    """`async with Broker(url, exchange) as broker`: connected, exchange declared."""

    def __init__(self, url: str, exchange: str, *, confirm_timeout: float) -> None:
        self.url = url
        self.exchange_name = exchange
        self.confirm_timeout = confirm_timeout
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def __aenter__(self) -> Broker:
        # A plain connection, not a robust one: the relay owns reconnecting, so that a lost
        # connection surfaces as an error here instead of a publish silently waiting.
        self._connection = await aio_pika.connect(self.url, timeout=10)
        try:
            # Without on_return_raises an unroutable mandatory publish looks like a success.
            self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
            self._exchange = await self._channel.declare_exchange(
                self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
            )
        except BaseException:
            await self._connection.close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._connection is not None and not self._connection.is_closed:
            with contextlib.suppress(*BROKER_ERRORS):
                await asyncio.wait_for(self._connection.close(), timeout=5)
        self._connection = self._channel = self._exchange = None

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed

    async def publish(self, rows: Sequence[Pending]) -> tuple[list[int], BaseException | None]:
        """Publish all rows pipelined, then wait for the confirms.

        Returns the sequences confirmed before the first failure (in order), and that failure.
        Rows after a failure are not reported even if confirmed: they are published again
        later, which delivery at-least-once allows, instead of letting a gap open.
        """
        assert self._exchange is not None, "use `async with Broker(...)`"
        exchange = self._exchange
        pending = [
            exchange.publish(message_of(row), routing_key(row.event_type), mandatory=True) for row in rows
        ]
        try:
            results = await asyncio.wait_for(
                asyncio.gather(*pending, return_exceptions=True), timeout=self.confirm_timeout
            )
        except TimeoutError as exc:
            return [], exc
        confirmed: list[int] = []
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                return confirmed, result
            confirmed.append(row.sequence)
        return confirmed, None


async def publish_to_queue(channel: AbstractChannel, queue: str, rows: Sequence[Pending]) -> None:
    """Publish straight to one queue through the default exchange (replay to one consumer)."""
    await asyncio.gather(
        *(channel.default_exchange.publish(message_of(row), queue, mandatory=True) for row in rows)
    )
