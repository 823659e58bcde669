"""The purge worker: sends the queued keys to every configured cache, in batches.

- Coalescing: woken by the handler's NOTIFY, it waits `purge_window` for the rest of a burst,
  then takes up to `purge_batch_keys` keys and sends one purge per cache (split only where an
  API limits the keys of one call). A key queued by ten changes is one key.
- A key is forgotten only after every cache confirmed it; a key queued again while its purge
  was in flight stays (its `seq` moved on). A cache that fails keeps the batch queued, the
  worker backs off (exponential, full jitter, at most `purge_backoff_max`, or the Retry-After
  an API asked for) and tries again until it takes: nothing is dropped, and the caches that
  had already taken it get it again, which is harmless.
- Several processes may run it: each takes the oldest keys, and a key purged twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import asyncpg
import httpx2
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from cms.platform import db
from cms.platform.workers import sleep_or_stop, supervise, wait_any
from consumers.purge import store
from consumers.purge.caches import Cache, PurgeFailed
from consumers.purge.settings import PurgeSettings
from consumers.purge.store import Pending

log = structlog.get_logger(__name__)

# Unreachable, or the consumer has not created its schema yet: wait and try again.
_NOT_YET: tuple[type[BaseException], ...] = (
    *db.UNREACHABLE,
    asyncpg.UndefinedTableError,
    asyncpg.InvalidSchemaNameError,
)
_LAG = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)
_SIZES = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000)


class PurgeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "cms_purge_batches",
            "Batches sent to a cache, by outcome",
            ["cache", "outcome"],
            registry=registry,
        )
        self.keys = Counter("cms_purge_keys", "Keys purged (confirmed by every cache)", registry=registry)
        self.batch = Histogram("cms_purge_batch_keys", "Keys per batch", registry=registry, buckets=_SIZES)
        self.lag = Histogram(
            "cms_purge_lag_seconds",
            "From the change (the event's time) to every cache confirming its purge",
            registry=registry,
            buckets=_LAG,
        )
        self.waiting = Gauge("cms_purge_waiting_keys", "Keys queued and not yet purged", registry=registry)


class PurgeWorker:
    name = "purge-worker"

    def __init__(self, settings: PurgeSettings, caches: Sequence[Cache], registry: CollectorRegistry) -> None:
        self.settings = settings
        self.caches = list(caches)
        self.metrics = PurgeMetrics(registry)
        self.connected = False
        self._wake = asyncio.Event()

    @property
    def dsn(self) -> str:
        return self.settings.purge_database_url or self.settings.database_url

    def ready(self) -> bool:
        return self.connected

    async def run(self, stop: asyncio.Event) -> None:
        await supervise(stop, self._work, name="purge.worker", expected=_NOT_YET, ended=self._ended)

    def _ended(self) -> None:
        self.connected = False

    async def _work(self, stop: asyncio.Event) -> None:
        async with (
            db.create_pool(self.settings, dsn=self.dsn, application_name="cms-purge-worker") as pool,
            self._listening() as listener,
            httpx2.AsyncClient(timeout=self.settings.purge_timeout, follow_redirects=False) as client,
        ):
            await listener.add_listener(store.NOTIFY_CHANNEL, self._notified)
            self.connected = True
            failures = 0
            while not stop.is_set():
                self._wake.clear()
                async with pool.acquire() as conn:
                    batch = await store.due(conn, self.settings.purge_batch_keys)
                    self.metrics.waiting.set(await store.waiting(conn) if batch else 0)
                if not batch:
                    await wait_any(stop, self._wake, seconds=self.settings.purge_poll_interval)
                    if self._wake.is_set() and not stop.is_set():
                        # The rest of a burst arrives within the window: one purge for all of it.
                        await sleep_or_stop(stop, self.settings.purge_window)
                    continue
                try:
                    await self._purge(client, batch)
                except PurgeFailed as exc:
                    failures += 1
                    pause = self._pause(failures, exc.retry_after)
                    log.warning(
                        "purge.failed", error=str(exc), keys=len(batch), attempt=failures, retry_in=pause
                    )
                    await sleep_or_stop(stop, pause)
                    continue
                failures = 0
                async with pool.acquire() as conn:
                    await store.done(conn, batch)
                self._observe(batch)

    @contextlib.asynccontextmanager
    async def _listening(self) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
        conn = await asyncpg.connect(self.dsn, timeout=self.settings.database_connect_timeout)
        try:
            yield conn
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=5)

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _purge(self, client: httpx2.AsyncClient, batch: list[Pending]) -> None:
        hard = [item.key for item in batch if item.hard]
        soft = [item.key for item in batch if not item.hard]
        for cache in self.caches:
            try:
                if hard:
                    await cache.purge(client, hard, hard=True)
                if soft:
                    await cache.purge(client, soft, hard=False)
            except PurgeFailed:
                self.metrics.requests.labels(cache.name, "failed").inc()
                raise
            self.metrics.requests.labels(cache.name, "purged").inc()
        log.info("purge.purged", keys=len(batch), hard=len(hard), caches=len(self.caches))

    def _pause(self, failures: int, retry_after: float | None) -> float:
        ceiling = min(self.settings.purge_backoff_max, 0.2 * 2**failures)
        pause = random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter, not crypto)
        return max(pause, min(retry_after, self.settings.purge_backoff_max)) if retry_after else pause

    def _observe(self, batch: list[Pending]) -> None:
        now = datetime.now(UTC)
        self.metrics.keys.inc(len(batch))
        self.metrics.batch.observe(len(batch))
        for item in batch:
            self.metrics.lag.observe(max(0.0, (now - item.changed_at).total_seconds()))
