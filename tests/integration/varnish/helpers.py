"""Speaking to the purge stack: read through Varnish, wait for purges to be confirmed, and ask
Varnish itself what it holds."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import asyncpg
import httpx2

from cms.system import SystemSettings
from tests.helpers import eventually
from tests.processes import Started
from tests.proxy import TcpProxy


@dataclass
class Stack:
    backend: Started
    cache: Started
    to_cache: TcpProxy  # between the purge worker and Varnish
    through_cache: httpx2.AsyncClient  # a reader, through Varnish
    purge_app: httpx2.AsyncClient  # the purge consumer's own HTTP face (health, metrics)
    settings: SystemSettings

    async def cached(self, path: str) -> httpx2.Response:
        """GET `path` until Varnish answers it from its cache (a HIT), then that answer."""
        for _ in range(3):
            response = await self.through_cache.get(path)
            if response.headers.get("x-cache") == "HIT":
                return response
        raise AssertionError(f"{path} was not cached: {response.status_code} {response.headers}")


async def purged(db: asyncpg.Connection[asyncpg.Record], within: float = 10.0) -> None:
    """Until every queued key was confirmed by Varnish (the purge consumer's queue is empty and
    the event reached it: the caller waits for its own article's version first)."""

    async def nothing_waiting() -> bool:
        waiting: int = await db.fetchval("SELECT count(*) FROM purge.pending")
        return waiting == 0

    await eventually(nothing_waiting, within=within)


async def applied(db: asyncpg.Connection[asyncpg.Record], article_id: str, version: int) -> None:
    """Until the purge consumer has applied `version` of the article (its keys are queued)."""

    async def seen() -> bool:
        found = await db.fetchval("SELECT version FROM purge.articles WHERE article_id = $1", article_id)
        return found is not None and found >= version

    await eventually(seen, within=15)


async def varnish_counter(workdir: str, name: str) -> int:
    """One of varnishd's counters now (varnishstat), e.g. MAIN.cache_hit."""
    process = await asyncio.create_subprocess_exec(
        "varnishstat", "-n", workdir, "-1", "-j", "-f", name, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    counters = json.loads(out)
    found: int = counters.get("counters", counters)[name]["value"]
    return found


def metric(metrics: str, series: str) -> float:
    """The value of one series in a Prometheus text exposition; 0 when it is absent."""
    for line in metrics.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    return 0.0
