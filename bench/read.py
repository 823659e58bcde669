"""Read benchmark: `GET /v1/content/articles/{slug}` of our app against a bare endpoint.

    python -m bench.read [--duration 2] [--connections 16] [--rounds 12] [--client auto|wrk|python]
                         [--pin 0:1] [--cache]

Both servers run at once (each in its own uvicorn process, one worker) on one freshly
migrated database holding the fixture article and its published "see also" article. The
runs alternate, baseline then ours, after a warm-up of each; the figure is ours ÷ baseline
(the median of the rounds). With wrk, each run's p99 latency is compared the same way.

`--cache` adds a third server, ours with the in-process delivery cache on (subscribed to an
exchange of the bench's own on the broker at `CMS_AMQP_URL`), measured in the same rounds
right after the other two, and reported against the same baseline runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import asyncpg
import httpx2

from bench import load
from bench.common import (
    Measurement,
    Rounds,
    Server,
    check_no_failures,
    common_arguments,
    describe,
    fixture,
    pinning,
    report,
    run,
    scratch_database,
    server,
    with_cpu,
)
from cms.platform import tokens
from cms.settings import Settings

TARGET = 0.6
CACHED_TARGET = 1.0
PATH = "/v1/content/articles/{slug}?language=de"


async def _publish_fixtures(ours: Server, dsn: str) -> str:
    """The two fixture articles, in through our API and published; returns the slug to read."""
    conn = await asyncpg.connect(dsn)
    try:
        editor = await tokens.create(conn, name="bench-editor", role="editor")
    finally:
        await conn.close()
    headers = {"Authorization": f"Bearer {editor.token}"}
    async with httpx2.AsyncClient(base_url=ours.base_url, headers=headers) as api:

        async def create_published(body: dict[str, Any]) -> dict[str, Any]:
            created = await api.post("/v1/admin/articles", json=body)
            assert created.status_code == 201, created.text
            published = await api.post(f"/v1/admin/articles/{created.json()['id']}/publish")
            assert published.status_code == 200, published.text
            article: dict[str, Any] = published.json()
            return article

        related = await create_published(fixture("article-luxusgueter.de.json"))
        main = await create_published({**fixture("article-stabschefs.de.json"), "related": [related["id"]]})
    slug: str = main["slug"]
    return slug


async def _same_answer(baseline: Server, ours: Server, path: str) -> None:
    """Both sides must serve the same article, or the comparison is meaningless."""
    async with httpx2.AsyncClient() as client:
        bare = await client.get(baseline.base_url + path)
        mine = await client.get(ours.base_url + path)
    for side, answer in ((baseline, bare), (ours, mine)):
        if answer.status_code != 200:
            raise RuntimeError(f"{side.kind} answered {answer.status_code}:\n{side.stderr_tail()}")
    assert bare.json() == mine.json(), "the baseline and our app answer differently"
    assert len(mine.json()["related"]) == 1, "the related article is missing"


@contextlib.asynccontextmanager
async def _cached_side(enabled: bool, dsn: str, cpus: str | None) -> AsyncIterator[Server | None]:
    """Ours with the in-process cache, serving (its subscription up); its exchange removed after."""
    if not enabled:
        yield None
        return
    prefix = f"bench_read_{os.getpid()}"
    options = ["--delivery-cache", "--amqp-prefix", prefix]
    try:
        async with server("cms", dsn, "/healthz", cpus=cpus, options=options) as cached:
            await _until_serving(cached)
            yield cached
    finally:
        connection = await aio_pika.connect(Settings().amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.exchange_delete(f"{prefix}.events")


async def _until_serving(side: Server) -> None:
    deadline = time.monotonic() + 30
    async with httpx2.AsyncClient(base_url=side.base_url) as client:
        while "cms_delivery_cache_serving 1.0" not in (await client.get("/metrics")).text:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cache did not start serving:\n{side.stderr_tail()}")
            await asyncio.sleep(0.1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    common_arguments(parser, duration=2.0, connections=16)
    parser.add_argument("--cache", action="store_true", help="also ours with the in-process delivery cache")
    parser.add_argument("--gc-stats", action="store_true", help="print our server's collection pauses")
    parser.add_argument(
        "--gc-off", action="store_true", help="ours (without the cache) with the collector off, for reference"
    )
    args = parser.parse_args()
    client = load.pick_client(args.client)
    server_cpus, client_cpus = pinning(args)
    gc_stats = [*(["--gc-stats"] if args.gc_stats else []), *(["--gc-off"] if args.gc_off else [])]

    async with (
        scratch_database(args.server_dsn, "read") as dsn,
        server("bare-read", dsn, "/v1/content/articles/none", cpus=server_cpus) as baseline,
        server("cms", dsn, "/healthz", cpus=server_cpus, options=gc_stats) as ours,
        _cached_side(args.cache, dsn, server_cpus) as cached,
    ):
        slug = await _publish_fixtures(ours, dsn)
        path = PATH.format(slug=slug)
        await _same_answer(baseline, ours, path)
        if cached is not None:
            await _same_answer(baseline, cached, path)
        request = load.Request("GET", path, headers={})

        async def measure(side: Server, seconds: float, tag: str) -> Measurement:
            measured = await with_cpu(
                side.cpu_seconds,
                load.measure(
                    client,
                    side.port,
                    request,
                    connections=args.connections,
                    seconds=seconds,
                    tag=tag,
                    cpus=client_cpus,
                ),
            )
            check_no_failures(f"{side.kind} {tag}", measured)
            return measured

        sides: list[tuple[Server, list[Measurement]]] = [(baseline, []), (ours, [])]
        if cached is not None:
            sides.append((cached, []))
        for side, _ in sides:
            await measure(side, args.warmup, "first-warmup")
        for number in range(1, args.rounds + 1):
            for side, results in sides:
                if args.settle > 0:
                    await measure(side, args.settle, f"warmup{number}")
                results.append(await measure(side, args.duration, f"round{number}"))
        rounds = Rounds(baseline=sides[0][1], ours=sides[1][1])

    if args.gc_stats:
        print("\nours (without the cache), over its whole life:")
        print("\n".join(line for line in ours.last_words.splitlines() if line.startswith("gc gen")))
    report(
        "read: GET /v1/content/articles/{slug}?language=de",
        describe(client, args),
        "bare Starlette route + asyncpg pool, the same SQL (queries.LIVE_BY_SLUG), row as JSON",
        "cms.app.create_app: middleware, metrics, JSON access log at info level to /dev/null",
        rounds,
        TARGET,
    )
    if args.cache:
        report(
            "read with the in-process cache: GET /v1/content/articles/{slug}?language=de",
            describe(client, args),
            "the same baseline runs as above",
            "cms.app.create_app with CMS_DELIVERY_CACHE_ENABLED (its subscription up), as above otherwise",
            Rounds(baseline=sides[0][1], ours=sides[2][1]),
            CACHED_TARGET,
        )


if __name__ == "__main__":
    run(main)
