"""How soon a change made through the admin API is read fresh through the in-process cache.

    python -m bench.cache_freshness [--changes 200]

One `cms serve`-like server (bench.server) with the in-process delivery cache on, the relay
running in this process (as `cms relay` would, LISTEN/NOTIFY plus its default 1 s poll), both
on an exchange of the bench's own. For each change (update the title, unpublish, publish
again, in turn) a live article is first read until its answer is served from the cache
(checked on /metrics), after the previous change settled (CMS_DELIVERY_CACHE_SETTLE); the clock
starts when the admin API has answered (the change is committed) and stops at the first
anonymous read that shows the change, polling every millisecond. The bench also counts
the reads that still got the old answer in between (stale reads, expected while the event
travels: the bound is the figure itself).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import time
from typing import Any

import aio_pika
import asyncpg
import httpx2

from bench.common import DEFAULT_SERVER_DSN, fixture, run, scratch_database, server
from cms.events.relay import Relay
from cms.platform import log, tokens
from cms.settings import Settings

KINDS = ("update", "unpublish", "publish")


async def _until_serving(client: httpx2.AsyncClient) -> None:
    deadline = time.monotonic() + 30
    while "cms_delivery_cache_serving 1.0" not in (await client.get("/metrics")).text:
        if time.monotonic() > deadline:
            raise RuntimeError("the cache did not start serving")
        await asyncio.sleep(0.1)


async def _change(
    admin: httpx2.AsyncClient, article: dict[str, Any], kind: str, number: int
) -> dict[str, Any]:
    base = f"/v1/admin/articles/{article['id']}"
    if kind == "update":
        answer = await admin.patch(
            base,
            json={"title": f"Stabschefs, Fassung {number}"},
            headers={"If-Match": f'"{article["version"]}"'},
        )
    else:
        answer = await admin.post(f"{base}/{kind}")
    assert answer.status_code == 200, answer.text
    changed: dict[str, Any] = answer.json()
    return changed


def _fresh(kind: str, article: dict[str, Any], answer: httpx2.Response) -> bool:
    if kind == "unpublish":
        return answer.status_code == 404
    return answer.status_code == 200 and answer.json()["title"] == article["title"]


def _hits(metrics: httpx2.Response) -> float:
    found = re.search(r"^cms_delivery_cache_hits_total ([0-9.e+]+)$", metrics.text, re.MULTILINE)
    assert found is not None
    return float(found.group(1))


def _ms(values: list[float], q: float) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3:.1f}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN)
    args = parser.parse_args()
    prefix = f"bench_fresh_{os.getpid()}"
    seconds: dict[str, list[float]] = {kind: [] for kind in KINDS}
    stale_reads = 0
    cached_before_change = 0
    try:
        async with scratch_database(args.server_dsn, "fresh") as dsn:
            settings = Settings(
                database_url=dsn, amqp_prefix=prefix, log_format="console", log_level="warning"
            )
            log.configure(settings)
            stop = asyncio.Event()
            relay = asyncio.create_task(Relay(settings).run(stop))
            options = ["--delivery-cache", "--amqp-prefix", prefix]
            try:
                async with server("cms", dsn, "/healthz", options=options) as cached:
                    conn = await asyncpg.connect(dsn)
                    try:
                        editor = await tokens.create(conn, name="bench-editor", role="editor")
                    finally:
                        await conn.close()
                    async with (
                        httpx2.AsyncClient(
                            base_url=cached.base_url, headers={"Authorization": f"Bearer {editor.token}"}
                        ) as admin,
                        httpx2.AsyncClient(base_url=cached.base_url) as reader,
                    ):
                        await _until_serving(reader)
                        created = await admin.post(
                            "/v1/admin/articles", json=fixture("article-stabschefs.de.json")
                        )
                        assert created.status_code == 201, created.text
                        article = await _change(admin, created.json(), "publish", 0)
                        path = f"/v1/content/articles/{article['slug']}?language=de"
                        await asyncio.sleep(1.0)  # the publish event has arrived
                        for number in range(1, args.changes + 1):
                            kind = KINDS[(number - 1) % len(KINDS)]
                            # Answers are stored again once the last change has settled.
                            await asyncio.sleep(settings.delivery_cache_settle + 0.05)
                            await reader.get(path)
                            hits = _hits(await reader.get("/metrics"))
                            again = await reader.get(path)
                            if kind != "publish":  # a live answer to drop: it must be in the cache
                                cached_before_change += again.status_code == 200
                                if _hits(await reader.get("/metrics")) != hits + 1:
                                    raise RuntimeError(
                                        f"change {number}: the answer was not cached before it"
                                    )
                            article = await _change(admin, article, kind, number)
                            started = time.perf_counter()
                            while not _fresh(kind, article, await reader.get(path)):
                                stale_reads += 1
                                if time.perf_counter() - started > 30:
                                    raise RuntimeError(f"change {number} ({kind}) not seen within 30 s")
                                await asyncio.sleep(0.001)
                            seconds[kind].append(time.perf_counter() - started)
                        metrics = (await reader.get("/metrics")).text
            finally:
                stop.set()
                await asyncio.wait_for(relay, timeout=15)
    finally:
        connection = await aio_pika.connect(Settings().amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.exchange_delete(f"{prefix}.events")
    every = [value for values in seconds.values() for value in values]
    print(
        f"\nchange through the admin API -> fresh answer through the in-process cache, {len(every)} changes"
    )
    print(f"{'change':>10}  {'n':>4}  {'p50 ms':>7}  {'p99 ms':>7}  {'max ms':>7}")
    for kind, values in [*seconds.items(), ("all", every)]:
        worst = max(values) * 1e3
        print(f"{kind:>10}  {len(values):>4}  {_ms(values, 0.5):>7}  {_ms(values, 0.99):>7}  {worst:>7.1f}")
    print(f"\nstale reads while events travelled: {stale_reads} (reads 1 ms apart)")
    print(f"live answers served from the cache just before their change: {cached_before_change}")
    wanted = (
        "cms_delivery_cache_hits_total",
        "cms_delivery_cache_invalidations_total",
        "cms_delivery_cache_events_total",
    )
    for line in metrics.splitlines():
        if line.startswith(wanted):
            print(line)
    print(f"p99 over all changes {_ms(every, 0.99)} ms, median {statistics.median(every) * 1e3:.1f} ms")


if __name__ == "__main__":
    run(main)
