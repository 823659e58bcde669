"""Where the real services the tests run against are: PostgreSQL and RabbitMQ on this machine
unless the environment says otherwise."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import asyncpg

from consumers.registry import CONSUMERS

AMQP_URL = os.environ.get("CMS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
SERVER_DSN = os.environ.get("CMS_TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/postgres")


def dsn_for(database: str) -> str:
    """The DSN of `database` on the test server."""
    parts = urlsplit(SERVER_DSN)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def admin_connection() -> asyncpg.Connection[asyncpg.Record]:
    """A connection to the server's maintenance database, for creating and dropping databases."""
    return await asyncpg.connect(SERVER_DSN)


async def remove_broker_names(prefix: str) -> None:
    """Delete the exchange and every queue a test may have declared under `prefix`."""
    queues = [f"{prefix}.tap", f"{prefix}.rebuild"] + [
        f"{prefix}.{name}{suffix}"
        for name in CONSUMERS
        for suffix in ["", ".dlq", *(f".retry.{n}" for n in range(1, 9))]
    ]
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        for queue in queues:
            await channel.queue_delete(queue, if_unused=False, if_empty=False)
        await channel.exchange_delete(f"{prefix}.events")
    finally:
        await connection.close()
