"""The broker edge of the relay: one connection, one confirming channel, the events exchange.

One channel on purpose: RabbitMQ keeps publish order per channel, a pool of channels does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractExchange
from pamqp import encode

from cms.events.contract import routing_key
from cms.events.outbox import Pending
from cms.platform import amqp
from cms.platform.amqp import BROKER_ERRORS

log = structlog.get_logger(__name__)

CONTENT_TYPE = "application/cloudevents+json"
# What pamqp and aiormq raise for a value they cannot write (pamqp: TypeError for a shortstr
# over 255 bytes; aiormq: ValueError for a long routing key). None of them is a broker error.
ENCODE_ERRORS: tuple[type[Exception], ...] = (TypeError, ValueError, OverflowError, struct.error)


class Refused(Exception):
    """The row itself cannot be published (not the broker's state): publishing it again
    would fail again, so it is parked instead of blocking the rows behind it."""


def refusal(row: Pending, max_message_bytes: int) -> str | None:
    """Why the AMQP encoder or the broker would refuse this row for what it is, or None.

    Checks, with pamqp's own encoders, what of the message comes from the row: its short
    strings (at most 255 bytes each) and its timestamp; and the body's size, since the broker
    closes the channel for a message over its `max_message_size`. Cheap enough for every
    row; anything else the encoder refuses at publish time is caught by `refused`.
    """
    if len(row.body) > max_message_bytes:
        return f"body of {len(row.body)} bytes is over the broker's max message size of {max_message_bytes}"
    strings = {
        "correlation_id": row.correlation_id,
        "message_id": str(row.event_id),
        "type": row.event_type,
        "routing key": routing_key(row.event_type),
    }
    for name, value in strings.items():
        if value is None:
            continue
        try:
            encode.short_string(value)
        except ENCODE_ERRORS as exc:
            return f"{name} not encodable as an AMQP shortstr: {exc}"
    try:
        encode.timestamp(row.created_at)
    except ENCODE_ERRORS as exc:
        return f"timestamp not encodable: {exc}"
    return None


def refused(failure: BaseException) -> bool:
    """A publish that failed because of the row: found before publishing, or raised by the
    encoder inside aiormq (which then gives the delivery tag back: the broker saw nothing, so
    the channel's confirms stay in step). Nacks, returns, timeouts and closes are not."""
    return isinstance(failure, (Refused, *ENCODE_ERRORS))


def message_of(row: Pending, headers: Mapping[str, Any] | None = None) -> aio_pika.Message:
    return aio_pika.Message(
        headers=dict(headers) if headers else None,
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

    def __init__(
        self, url: str, exchange: str, *, confirm_timeout: float, max_message_bytes: int = 128 * 1024 * 1024
    ) -> None:
        self.url = url
        self.exchange_name = exchange
        self.confirm_timeout = confirm_timeout
        self.max_message_bytes = max_message_bytes
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def __aenter__(self) -> Broker:
        # A plain connection, not a robust one: the relay owns reconnecting, so that a lost
        # connection surfaces as an error here instead of a publish silently waiting.
        self._connection = await amqp.connect(self.url)
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

    def publish(self, rows: Sequence[Pending]) -> Publishing:
        """Publish all rows pipelined (each its own publish, all in flight at once, in order on
        the one channel); await their confirms through the returned `Publishing`. A row that
        cannot be published for what it is is not sent: its confirm fails with `Refused`."""
        assert self._exchange is not None, "use `async with Broker(...)`"
        exchange = self._exchange
        loop = asyncio.get_running_loop()
        confirms: list[asyncio.Future[Any]] = []
        for row in rows:
            reason = refusal(row, self.max_message_bytes)
            try:
                message = message_of(row) if reason is None else None
            except ENCODE_ERRORS as exc:
                message, reason = None, f"not a valid AMQP message: {exc}"
            if message is None:
                confirms.append(loop.create_future())
                confirms[-1].set_exception(Refused(reason))
            else:
                confirms.append(
                    asyncio.ensure_future(
                        exchange.publish(message, routing_key(row.event_type), mandatory=True)
                    )
                )
        return Publishing(rows, confirms, timeout=self.confirm_timeout)


class Publishing:
    """Rows on their way to the broker; their confirms are taken in order, a prefix at a time,
    so the caller can mark the first rows sent while the broker still confirms the rest."""

    def __init__(
        self, rows: Sequence[Pending], confirms: list[asyncio.Future[Any]], *, timeout: float
    ) -> None:
        self._rows = rows
        self._confirms = confirms
        self._taken = 0
        self._timeout = timeout
        self._deadline = asyncio.get_running_loop().time() + timeout
        for confirm in confirms:
            confirm.add_done_callback(_retrieve)

    @property
    def all_taken(self) -> bool:
        return self._taken == len(self._rows)

    def skip(self) -> None:
        """Pass over the row whose failure `confirmed` just returned (it was refused and
        parked) and go on with the rows behind it."""
        self._taken += 1

    async def confirmed(self, at_least: int = 1) -> tuple[list[int], BaseException | None]:
        """Wait until `at_least` more rows (or all that are left) are confirmed; returns the
        sequences confirmed since the last call, in order and stopping before the first
        failure, and that failure (nacked, returned as unroutable, lost connection, or no
        confirm within the timeout).

        Rows after a failure are never reported even if confirmed: they are published again
        later, which delivery at-least-once allows, instead of letting a gap open.
        """
        if self.all_taken:
            return [], None
        # The broker confirms a channel's publishes in order, so waiting for the last of them
        # covers those before it (a failure among them ends early; it is found below).
        last = self._confirms[min(self._taken + at_least, len(self._rows)) - 1]
        if not last.done():
            remaining = self._deadline - asyncio.get_running_loop().time()
            await asyncio.wait([last], timeout=max(remaining, 0))
        confirmed: list[int] = []
        while self._taken < len(self._rows) and self._confirms[self._taken].done():
            confirm = self._confirms[self._taken]
            failure = asyncio.CancelledError() if confirm.cancelled() else confirm.exception()
            if failure is not None:
                return confirmed, failure
            confirmed.append(self._rows[self._taken].sequence)
            self._taken += 1
        if not last.done():
            return confirmed, TimeoutError(f"no confirm within {self._timeout:g} s")
        return confirmed, None

    def cancel(self) -> None:
        """Stop waiting for whatever is still in flight (its rows stay unsent and go again)."""
        for confirm in self._confirms:
            confirm.cancel()


def _retrieve(confirm: asyncio.Future[Any]) -> None:
    """Failures are read in order by `Publishing.confirmed`; those after the first never are,
    and asyncio would log each of them as never retrieved."""
    if not confirm.cancelled():
        confirm.exception()


async def publish_to_queue(
    channel: AbstractChannel,
    queue: str,
    rows: Sequence[Pending],
    headers: Mapping[str, Any] | None = None,
    last_headers: Mapping[str, Any] | None = None,
) -> None:
    """Publish straight to one queue through the default exchange (replay to one consumer);
    `headers` on every message, `last_headers` besides on the last of `rows`."""
    last = len(rows) - 1
    await asyncio.gather(
        *(
            channel.default_exchange.publish(
                message_of(row, {**(headers or {}), **(last_headers or {})} if i == last else headers),
                queue,
                mandatory=True,
            )
            for i, row in enumerate(rows)
        )
    )
