"""The servers under test, each run alone in its own process by the benchmarks:

    python -m bench.server cms --dsn DSN --port PORT        our application (cms.app.create_app)
    python -m bench.server bare-read --dsn DSN --port PORT  the read baseline
    python -m bench.server cms --delivery-cache --amqp-prefix P ...
                                                            ours with the in-process delivery cache,
                                                            subscribed to exchange P.events

Both run on uvicorn with the same configuration (one worker, uvloop and httptools when
installed, no access log: ours logs its own), and pools of the same size.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import time
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


def settings_for(dsn: str, **more: Any) -> Settings:
    # As in production: JSON log lines at info level, so each request renders its access line.
    return Settings(database_url=dsn, log_format="json", log_level="info", **more)


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


class GcPauses:
    """Every collection's generation and duration, through gc.callbacks; a summary at exit."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seen: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.seen[info["generation"]].append(time.perf_counter() - self.started)

    def from_first_request(self, app: Any) -> Any:
        """`app`, counting collections from its first request on: start-up's are not the load's."""
        counting = False

        async def counted(scope: Any, receive: Any, send: Any) -> None:
            nonlocal counting
            if not counting and scope["type"] == "http":
                counting = True
                gc.callbacks.append(self)
            await app(scope, receive, send)

        return counted

    def report_and_exit(self, signum: int, frame: object) -> None:
        self.report()
        sys.exit(0)

    def report(self) -> None:
        for generation, pauses in self.seen.items():
            longest = max(pauses, default=0.0) * 1e3
            print(
                f"gc gen{generation}: {len(pauses)} collections, {sum(pauses) * 1e3:.1f} ms in all, "
                f"longest {longest:.2f} ms",
                file=sys.stderr,
            )


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
    parser.add_argument("--delivery-cache", action="store_true", help="cms: with the in-process cache on")
    parser.add_argument(
        "--gc-off", action="store_true", help="the cyclic collector switched off: a reference, not a setting"
    )
    parser.add_argument("--gc-stats", action="store_true", help="print the collector's pauses at exit")
    parser.add_argument("--amqp-prefix", default="cms", help="cms: whose events the cache subscribes to")
    args = parser.parse_args()
    settings = settings_for(
        args.dsn, delivery_cache_enabled=args.delivery_cache, amqp_prefix=args.amqp_prefix
    )
    app: Any = cms_app(settings) if args.kind == "cms" else bare_read_app(settings)
    if args.gc_off:
        gc.disable()
    if args.gc_stats:
        pauses = GcPauses()
        app = pauses.from_first_request(app)
        # uvicorn drains on SIGTERM, puts back the handler it found and raises the signal again.
        signal.signal(signal.SIGTERM, pauses.report_and_exit)
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
