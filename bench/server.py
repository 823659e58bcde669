"""The servers under test, each run alone in its own process by the benchmarks:

    python -m bench.server cms --dsn DSN --port PORT        our application (cms.app.create_app)
    python -m bench.server bare-read --dsn DSN --port PORT  the read baseline

Both run on uvicorn with the same configuration (one worker, uvloop and httptools when
installed, no access log: ours logs its own), and pools of the same size.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cms.app import create_app
from cms.articles.queries import LIVE_BY_SLUG
from cms.platform import log
from cms.settings import Settings

# Kept open for the life of the process: structlog holds on to its buffer.
_DEVNULL = open(os.devnull, "w")  # noqa: SIM115


def settings_for(dsn: str) -> Settings:
    # As in production: JSON log lines at info level, so each request renders its access line.
    return Settings(database_url=dsn, log_format="json", log_level="info")


def cms_app(settings: Settings) -> Starlette:
    # The log lines are rendered and written in full, to /dev/null rather than to a terminal
    # or a file, so that neither side pays for the disk.
    real_stderr, sys.stderr = sys.stderr, _DEVNULL
    try:
        log.configure(settings)
    finally:
        sys.stderr = real_stderr
    return create_app(settings)


def bare_read_app(settings: Settings) -> Starlette:
    """What a competent developer writes in twenty lines: the same query, the row as JSON.

    It gets every advantage our pool has (jsonb decoded by orjson, no reset round trip on
    release, the same pool size), so the ratio measures only what our layers add."""

    async def init(conn: asyncpg.Connection[asyncpg.Record]) -> None:
        await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=_dumps, decoder=orjson.loads)

    async def reset(conn: asyncpg.Connection[asyncpg.Record]) -> None:
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with asyncpg.create_pool(
            settings.database_url,
            min_size=settings.pool_min_size,
            max_size=settings.pool_max_size,
            init=init,
            reset=reset,
        ) as pool:
            app.state.pool = pool
            yield

    async def article(request: Request) -> Response:
        pool: asyncpg.Pool[asyncpg.Record] = request.app.state.pool
        async with pool.acquire() as conn:
            row = await conn.fetchrow(
                LIVE_BY_SLUG, request.path_params["slug"], request.query_params.get("language")
            )
        if row is None:
            return Response(status_code=404)
        body = orjson.dumps(dict(row), default=_uuid_text, option=orjson.OPT_UTC_Z)
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/v1/content/articles/{slug}", article)], lifespan=lifespan)


def _uuid_text(value: object) -> str:
    """asyncpg's UUID is a subclass of uuid.UUID, which orjson serialises only exactly."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("kind", choices=["cms", "bare-read"])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = settings_for(args.dsn)
    app = cms_app(settings) if args.kind == "cms" else bare_read_app(settings)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        workers=None,
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
    )


if __name__ == "__main__":
    main()
