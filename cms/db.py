"""The asyncpg pool: codecs and session settings every connection gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg
import orjson

from cms.settings import Settings

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


def server_settings(settings: Settings, application_name: str) -> dict[str, str]:
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
    settings: Settings, dsn: str | None = None, application_name: str = "cms"
) -> AsyncIterator[Pool]:
    pool = await asyncpg.create_pool(
        dsn or settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        init=init_connection,
        reset=release_reset,
        server_settings=server_settings(settings, application_name),
    )
    try:
        yield pool
    finally:
        await pool.close()


async def connect(
    settings: Settings, dsn: str | None = None, application_name: str = "cms"
) -> asyncpg.Connection[asyncpg.Record]:
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(
        dsn or settings.database_url,
        server_settings=server_settings(settings, application_name),
    )
    await init_connection(conn)
    return conn
