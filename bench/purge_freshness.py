"""How soon a change is seen through Varnish, and what Varnish saves the backend under a spike.

The real processes, each its own: `cms serve` (the API), `cms relay`, `cms-consumer purge`
purging a real varnishd that runs deploy/varnish/default.vcl as shipped, in front of the API.
RabbitMQ and PostgreSQL as configured for the tests; the database is a scratch one.

1. Freshness: `--changes` changes cycling publish → update → unpublish on one article. Before
   each, its page is cached in Varnish (or, unpublished, a 404 that is never cached); after the
   write's answer, the page is read through Varnish every 5 ms until it shows the change. p50 and
   p99 of write answered → fresh answer, per kind and overall (target p99 ≤ 1 s).
2. Spike: wrk at `--connections` on the article's URL through Varnish for `--seconds` while the
   article is updated `--updates` times. Beside wrk, 4 checker connections read the same URL in
   a loop; after each update, the bench waits until the purge consumer has confirmed the purge
   (its queued keys are gone), and every checker answer to a request *sent after* that moment
   that still shows an older title counts as stale (target 0). Then the same load straight at
   the API: requests the backend served per second with and without Varnish (the API's own
   request counter), and req/s and p99 of wrk through Varnish.

`python -m bench.purge_freshness [--changes 200] [--seconds 20] [--updates 20]`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx2

from bench.common import DEFAULT_SERVER_DSN, ROOT, free_port, scratch_database
from cms.platform import tokens
from tests.processes import Started, started
from tests.services import AMQP_URL, remove_broker_names
from tests.varnish import cms_serve, varnish

BIN = Path(sys.executable).parent


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextlib.asynccontextmanager
async def process(args: list[str], env: dict[str, str], port: int) -> AsyncIterator[Started]:
    """One of our processes, ready once /readyz answers 200; stopped by its PID."""
    async with started(args, port, env=env, ready="/readyz", startup_timeout=30, cwd=ROOT) as running:
        yield running


class Newsroom:
    def __init__(
        self, api: httpx2.AsyncClient, cache: httpx2.AsyncClient, token: str, db: asyncpg.Connection[Any]
    ) -> None:
        self.api, self.cache, self.db = api, cache, db
        self.auth = {"Authorization": f"Bearer {token}"}

    async def write(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.api.request(
            method, path, headers={**self.auth, **kwargs.pop("headers", {})}, **kwargs
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        found: dict[str, Any] = response.json()
        return found

    async def update(self, article: dict[str, Any], title: str) -> dict[str, Any]:
        return await self.write(
            "PATCH",
            f"/v1/admin/articles/{article['id']}",
            json={"title": title},
            headers={"If-Match": f'"{article["version"]}"'},
        )

    async def fresh_after(self, url: str, fresh: Any) -> float:
        """Seconds until a read through Varnish satisfies `fresh` (polled every 5 ms)."""
        started = time.perf_counter()
        while True:
            response = await self.cache.get(url)
            if fresh(response):
                return time.perf_counter() - started
            if time.perf_counter() - started > 30:
                raise RuntimeError(f"{url} never became fresh: {response.status_code} {response.text[:200]}")
            await asyncio.sleep(0.005)

    async def cache_it(self, url: str) -> None:
        for _ in range(3):
            if (await self.cache.get(url)).headers.get("x-cache") == "HIT":
                return

    async def purge_confirmed(self, article_id: str, version: int) -> None:
        """Until the purge consumer applied `version` and every queued key was purged."""
        while True:
            seen = await self.db.fetchval(
                "SELECT version FROM purge.articles WHERE article_id = $1", uuid.UUID(article_id)
            )
            waiting = await self.db.fetchval("SELECT count(*) FROM purge.pending")
            if seen is not None and seen >= version and waiting == 0:
                return
            await asyncio.sleep(0.002)


async def freshness(room: Newsroom, changes: int) -> dict[str, list[float]]:
    article = await room.write(
        "POST", "/v1/admin/articles", json={"title": "Frische 0", "language": "de", "section": "world"}
    )
    url = f"/v1/content/articles/{article['slug']}?language=de"
    took: dict[str, list[float]] = {"publish": [], "update": [], "unpublish": []}
    kinds = ["publish", "update", "unpublish"]
    for number in range(1, changes + 1):
        kind = kinds[(number - 1) % 3]
        await room.cache_it(url)
        if kind == "publish":
            article = await room.write("POST", f"/v1/admin/articles/{article['id']}/publish")
            title = article["title"]
            took[kind].append(
                await room.fresh_after(
                    url, lambda r, t=title: r.status_code == 200 and r.json()["title"] == t
                )
            )
        elif kind == "update":
            article = await room.update(article, f"Frische {number}")
            title = article["title"]
            took[kind].append(
                await room.fresh_after(
                    url, lambda r, t=title: r.status_code == 200 and r.json()["title"] == t
                )
            )
        else:
            article = await room.write("POST", f"/v1/admin/articles/{article['id']}/unpublish")
            took[kind].append(await room.fresh_after(url, lambda r: r.status_code == 404))
    return took


def wrk(port: int, path: str, connections: int, seconds: int) -> tuple[float, float, str]:
    """req/s and p99 (ms) of wrk at `connections` on one URL."""
    output = subprocess.run(  # noqa: S603 (wrk with arguments built here)
        [
            shutil.which("wrk") or "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)\b", output)
    assert p99 is not None, output
    return rate, float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)], output


async def backend_requests(api: httpx2.AsyncClient) -> float:
    text = (await api.get("/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("cms_http_requests_total{") and 'route="/v1/content/articles/{slug}"' in line
    )


async def spike(
    room: Newsroom, port: int, connections: int, seconds: int, updates: int, through: str
) -> dict[str, Any]:
    """wrk on one slug for `seconds` while the article is updated `updates` times."""
    article = await room.write("POST", "/v1/admin/articles", json={"title": "Eilmeldung 0", "language": "de"})
    article = await room.write("POST", f"/v1/admin/articles/{article['id']}/publish")
    path = f"/v1/content/articles/{article['slug']}?language=de"
    await room.purge_confirmed(article["id"], article["version"])
    base = await backend_requests(room.api)
    load = asyncio.create_task(asyncio.to_thread(wrk, port, path, connections, seconds))
    confirmed: list[tuple[float, int]] = []  # (when the purge of update n was confirmed, n)
    seen: list[tuple[float, int]] = []  # (when a checker's request was sent, the n it showed)
    done = asyncio.Event()

    async def checker() -> None:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            while not done.is_set():
                sent = time.monotonic()
                response = await client.get(path)
                if response.status_code == 200:
                    seen.append((sent, int(response.json()["title"].rsplit(" ", 1)[1])))

    checkers = [asyncio.create_task(checker()) for _ in range(4)]
    await asyncio.sleep(1)
    pause = max(0.1, (seconds - 3) / updates)
    for number in range(1, updates + 1):
        article = await room.update(article, f"Eilmeldung {number}")
        await room.purge_confirmed(article["id"], article["version"])
        confirmed.append((time.monotonic(), number))
        await asyncio.sleep(pause)
    rate, p99, _ = await load
    done.set()
    await asyncio.gather(*checkers)
    served = await backend_requests(room.api) - base
    stale = sum(
        1
        for sent, shown in seen
        for at, number in confirmed
        if sent > at and shown < number and _latest(confirmed, sent) == number
    )
    return {
        "through": through,
        "wrk_rps": rate,
        "wrk_p99_ms": p99,
        "backend_requests": served,
        "backend_rps": served / seconds,
        "checked": len(seen),
        "stale_after_confirmed": stale,
    }


def _latest(confirmed: list[tuple[float, int]], sent: float) -> int:
    """The newest update whose purge was confirmed before `sent`."""
    return max((number for at, number in confirmed if at < sent), default=0)


def report(
    took: dict[str, list[float]], cached: dict[str, Any], bare: dict[str, Any], args: argparse.Namespace
) -> None:
    every = [t for values in took.values() for t in values]
    print(f"Freshness through Varnish, write answered -> fresh answer, {args.changes} changes:")
    for kind, values in [*took.items(), ("all", every)]:
        p50, p99 = statistics.median(values) * 1000, percentile(values, 0.99) * 1000
        worst = max(values) * 1000
        print(f"  {kind:10} n={len(values):4}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {worst:7.1f} ms")
    print(f"Spike: wrk -c{args.connections} -d{args.seconds}s on one slug, {args.updates} updates meanwhile:")
    for row in (cached, bare):
        print(
            "  " + "  ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())
        )
    print(f"  backend load with Varnish / without: {cached['backend_rps'] / bare['backend_rps']:.4f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--updates", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN)
    args = parser.parse_args()
    prefix = f"bench_purge_{os.getpid()}"
    async with scratch_database(args.server_dsn, "purge") as dsn:
        db = await asyncpg.connect(dsn)
        token = (await tokens.create(db, name="bench", role="editor")).token
        env = {
            "CMS_DATABASE_URL": dsn,
            "CMS_AMQP_URL": AMQP_URL,
            "CMS_AMQP_PREFIX": prefix,
            "CMS_LOG_LEVEL": "warning",
            "CMS_LOG_FORMAT": "json",
            "CMS_DELIVERY_S_MAXAGE": "3600",
        }
        try:
            async with cms_serve(dsn, env) as api_process, varnish(api_process.port) as cache:
                relay_port, purge_port = free_port(), free_port()
                everything = {
                    **os.environ,
                    **env,
                    "CMS_RELAY_PORT": str(relay_port),
                    "CMS_PURGE_PORT": str(purge_port),
                    "CMS_PURGE_VARNISH_URLS": json.dumps([cache.url]),
                    "CMS_RELAY_POLL_INTERVAL": "0.2",
                }
                async with (
                    process([str(BIN / "cms-consumer"), "purge"], everything, purge_port),
                    process([str(BIN / "cms"), "relay"], everything, relay_port),
                    httpx2.AsyncClient(base_url=api_process.url, timeout=30) as api,
                    httpx2.AsyncClient(base_url=cache.url, timeout=30) as through_cache,
                ):
                    room = Newsroom(api, through_cache, token, db)
                    took = await freshness(room, args.changes)
                    cached = await spike(
                        room, cache.port, args.connections, args.seconds, args.updates, "varnish"
                    )
                    bare = await spike(
                        room, api_process.port, args.connections, args.seconds, args.updates, "api"
                    )
                    report(took, cached, bare, args)
        finally:
            await db.close()
            await remove_broker_names(prefix)


if __name__ == "__main__":
    asyncio.run(main())
