"""Webhooks across a receiver outage: issue 16's experiment, run against our webhooks.

    python -m bench.webhooks [--outage 60] [--articles 40] [--rounds 5]

The whole pipeline runs in this process as in production: the content API (`create_app`), the
relay, and the webhooks consumer with its delivery worker (as `cms-consumer webhooks` builds
it), on a scratch database and a unique broker prefix. A receiver (Starlette under uvicorn on
127.0.0.1, verifying Standard Webhooks signatures) subscribes to `published` and `updated`.
`articles` x `rounds` events go through the admin API: two rounds with the receiver up, then
it is cut off while requests are in hand and stays down for `--outage` seconds while the
middle rounds are written, then it comes back and the last round is written. Printed: lost,
duplicated as a new delivery, out of order per article, unverified signatures, how long the
backlog took after the receiver came back, and the latency of events written after that.

The retry settings are the shipped defaults (backoff from 2 s, full jitter, at most 1 h)
unless --backoff-initial / --backoff-max say otherwise; only 127.0.0.0/8 is allowed as a
target (the receiver's address). Everything it creates is removed at the end, also on error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx2
from prometheus_client import CollectorRegistry

from bench.common import DEFAULT_SERVER_DSN, run, scratch_database
from cms.app import create_app
from cms.events.relay import Relay
from cms.platform import log as logging_setup
from cms.platform import tokens
from cms.platform.application import create_ops_app
from cms.system import SystemSettings
from consumers import process
from consumers.webhooks import SPEC as WEBHOOKS
from tests.integration.consumers.webhooks import experiment
from tests.integration.consumers.webhooks.receiver import receiving
from tests.services import remove_broker_names

AMQP_URL = os.environ.get("CMS_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
STRAPI = "Strapi 5 (measured for issue 16): ~60 % of publish notifications lost across a 15 s outage"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the receiver is down")
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5, help="events per article (publish, then updates)")
    parser.add_argument("--backoff-initial", type=float, default=None, help="CMS_WEBHOOKS_BACKOFF_INITIAL")
    parser.add_argument("--backoff-max", type=float, default=None, help="CMS_WEBHOOKS_BACKOFF_MAX")
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN, help="PostgreSQL to create the db in")
    return parser.parse_args()


@contextlib.asynccontextmanager
async def system(settings: SystemSettings) -> AsyncIterator[tuple[httpx2.AsyncClient, httpx2.AsyncClient]]:
    """The content API and the webhooks consumer's API as clients; the relay running."""
    content = create_app(settings)
    factory, operations = process.parts(WEBHOOKS, settings)
    consumer = create_ops_app(settings, [factory], name="cms-webhooks", extra_operations=operations)
    stop = asyncio.Event()
    relay = asyncio.create_task(Relay(settings, CollectorRegistry()).run(stop))
    try:
        async with (
            content.router.lifespan_context(content),
            consumer.router.lifespan_context(consumer),
            httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=content), base_url="http://cms.bench"
            ) as api,
            httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=consumer), base_url="http://hooks.bench"
            ) as hooks,
        ):
            async with asyncio.timeout(30):
                while (await hooks.get("/readyz")).status_code != 200:  # noqa: ASYNC110 (its readiness)
                    await asyncio.sleep(0.1)
            yield api, hooks
    finally:
        stop.set()
        await asyncio.wait_for(relay, timeout=15)


async def main() -> None:
    args = arguments()
    prefix = f"bench_webhooks_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    async with scratch_database(args.server_dsn, "webhooks") as dsn:
        overrides = {
            k: v
            for k, v in {
                "webhooks_backoff_initial": args.backoff_initial,
                "webhooks_backoff_max": args.backoff_max,
            }.items()
            if v is not None
        }
        settings = SystemSettings(
            database_url=dsn,
            amqp_url=AMQP_URL,
            amqp_prefix=prefix,
            log_level="error",
            log_format="json",
            relay_poll_interval=0.2,
            webhooks_allowed_networks=["127.0.0.0/8"],
            **overrides,
        )
        logging_setup.configure(settings)
        conn = await asyncpg.connect(dsn)
        try:
            token = {
                role: (await tokens.create(conn, name=f"bench-{role}", role=role)).token
                for role in ("admin", "editor", "author")
            }
        finally:
            await conn.close()
        try:
            async with receiving() as receiver, system(settings) as (api, hooks):
                created = await hooks.post(
                    "/v1/webhooks/subscriptions",
                    json={
                        "url": receiver.url,
                        "event_types": ["cms.article.published", "cms.article.updated"],
                    },
                    headers={"Authorization": f"Bearer {token['admin']}"},
                )
                assert created.status_code == 201, created.text
                receiver.secrets = [created.json()["secret"]]
                started = time.monotonic()
                result = await experiment.run(
                    api,
                    token,
                    receiver,
                    articles=args.articles,
                    rounds=args.rounds,
                    outage=args.outage,
                    drain_within=3_600.0,
                    log=lambda line: print(f"[{time.monotonic() - started:6.1f} s] {line}", file=sys.stderr),
                )
        finally:
            await remove_broker_names(prefix)
    print(
        f"Webhooks across a {args.outage:g} s receiver outage "
        f"({args.articles} articles x {args.rounds} events)"
    )
    print(
        f"backoff: initial {settings.webhooks_backoff_initial:g} s, max {settings.webhooks_backoff_max:g} s, "
        f"full jitter; timeout {settings.webhooks_timeout:g} s"
    )
    for line in result.lines():
        print(f"  {line}")
    lost_share = 100 * result.lost / max(1, result.expected)
    print(f"ours: {lost_share:.0f} % lost across {result.outage_seconds:.0f} s  |  {STRAPI}")


if __name__ == "__main__":
    run(main)
