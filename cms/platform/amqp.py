"""Connecting to RabbitMQ, possibly a cluster: `CMS_AMQP_URL` may list several nodes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection

# What a lost or refusing broker looks like from aio-pika: all mean "reconnect and retry".
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    aio_pika.exceptions.AMQPError,
    aiormq.exceptions.AMQPError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
    RuntimeError,  # aiormq raises it for writes on a closed connection
)


def urls(setting: str) -> list[str]:
    """`amqp://a:5672/,amqp://b:5672/` → each node; a single URL is a list of one."""
    return [url.strip() for url in setting.split(",") if url.strip()]


async def connect(setting: str, seconds: float = 10.0, heartbeat: int | None = None) -> AbstractConnection:
    """A plain (not robust) connection to the first node that answers, in the order given.

    Callers own reconnecting: robust connections have been seen to come back without their
    consumers, and a lost connection should surface as an error, not a silent wait.
    `heartbeat` (seconds) overrides the broker's proposal: how soon a silent peer counts as lost.
    """
    failure: BaseException | None = None
    for url in urls(setting):
        try:
            if heartbeat is None:
                return await aio_pika.connect(url, timeout=seconds)
            return await aio_pika.connect(url, timeout=seconds, heartbeat=heartbeat)
        except BROKER_ERRORS as exc:
            failure = exc
    raise failure or ConnectionError("CMS_AMQP_URL names no broker")


@asynccontextmanager
async def confirming_channel(setting: str) -> AsyncIterator[AbstractChannel]:
    """A connection and one channel with publisher confirms, where an unroutable mandatory
    publish raises (aio-pika reports it as a success otherwise), for one-off publishing."""
    connection = await connect(setting)
    try:
        yield await connection.channel(publisher_confirms=True, on_return_raises=True)
    finally:
        await connection.close()
