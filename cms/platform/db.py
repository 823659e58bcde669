"""The asyncpg pool: codecs and session settings every connection gets."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeAlias, TypeVar

import asyncpg
import orjson
import structlog

from cms.platform.settings import PlatformSettings

log = structlog.get_logger(__name__)
T = TypeVar("T")

# asyncpg's classes are generic only to the type checker.
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
Connection: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def init_connection(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    # jsonb would otherwise come back as str.
    await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=_dumps, decoder=orjson.loads)
    await conn.set_type_codec("json", schema="pg_catalog", encoder=_dumps, decoder=orjson.loads)


def server_settings(settings: PlatformSettings, application_name: str) -> dict[str, str]:
    return {
        "application_name": application_name,
        "idle_in_transaction_session_timeout": _ms(settings.idle_in_transaction_timeout),
        "statement_timeout": _ms(settings.statement_timeout),
        "timezone": "UTC",
    }


def _ms(delta: Any) -> str:
    return str(int(delta.total_seconds() * 1000))


async def release_reset(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Cheaper than asyncpg's default reset (a round trip on every release): our pooled
    connections hold no session state (no LISTEN, advisory locks or SET), only maybe an
    unfinished transaction."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


@asynccontextmanager
async def create_pool(
    settings: PlatformSettings, dsn: str | None = None, application_name: str = "cms", *, lazy: bool = False
) -> AsyncIterator[Pool]:
    """`lazy`: open no connection up front (a replica that is down must not stop the start)."""
    pool = await asyncpg.create_pool(
        dsn or settings.database_url,
        min_size=0 if lazy else settings.pool_min_size,
        max_size=settings.pool_max_size,
        init=init_connection,
        reset=release_reset,
        server_settings=server_settings(settings, application_name),
        # Fail fast when the database is gone: a request should get its 503, not hang.
        timeout=settings.database_connect_timeout,
    )
    try:
        yield pool
    finally:
        await pool.close()


@asynccontextmanager
async def connection(
    settings: PlatformSettings, dsn: str | None = None, application_name: str = "cms"
) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """One connection for a one-off job (a command, a post), closed when the block ends."""
    conn = await connect(settings, dsn, application_name)
    try:
        yield conn
    finally:
        await conn.close()


async def connect(
    settings: PlatformSettings, dsn: str | None = None, application_name: str = "cms"
) -> asyncpg.Connection[asyncpg.Record]:
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(
        dsn or settings.database_url,
        server_settings=server_settings(settings, application_name),
        timeout=settings.database_connect_timeout,
    )
    await init_connection(conn)
    return conn


# The one answer to "is the database unreachable?" (not: "was this query wrong?"). Every part
# treats these alike: the API answers 503, a consumer puts the message back without spending an
# attempt, the relay and the workers reconnect, delivery reads fall back from the replica.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)


class ReadPool:
    """Reads that may be a little stale (delivery, search) go to the replica when there is one.
    When it is unreachable, or fails mid-read, the read runs again on the primary, and the
    replica is tried again after `retry_after` seconds. Reads only: they are safe to repeat."""

    def __init__(self, primary: Pool, replica: Pool | None = None, retry_after: float = 5.0) -> None:
        self.primary = primary
        self.replica = replica
        self.retry_after = retry_after
        self._replica_down_until = 0.0

    async def run(self, read: Callable[[Connection], Awaitable[T]]) -> T:
        replica = self.replica
        if replica is not None and time.monotonic() >= self._replica_down_until:
            try:
                async with replica.acquire() as conn:
                    return await read(conn)
            except UNREACHABLE as exc:
                self._replica_down_until = time.monotonic() + self.retry_after
                log.warning("replica.unreachable", error=repr(exc), retry_in=self.retry_after)
        async with self.primary.acquire() as conn:
            return await read(conn)
