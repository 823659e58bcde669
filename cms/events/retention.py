"""Keeps the event log to `CMS_EVENT_RETENTION`: sent events older than that are deleted."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from cms.events import outbox
from cms.platform.db import Pool
from cms.platform.workers import sleep_or_stop

log = structlog.get_logger(__name__)


class Pruner:
    name = "event-log-pruner"

    def __init__(self, pool: Pool, retention: timedelta, interval: float = 300.0) -> None:
        self.pool = pool
        self.retention = retention
        self.interval = interval

    def ready(self) -> bool:
        return True

    async def prune_once(self) -> int:
        """Delete everything past retention, in batches so no lock is held for long."""
        total = 0
        while True:
            async with self.pool.acquire() as conn:
                deleted = await outbox.prune(conn, self.retention)
            total += deleted
            if deleted == 0:
                break
        if total:
            log.info("event_log.pruned", deleted=total, retention=str(self.retention))
        return total

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.prune_once()
            except Exception:
                log.exception("event_log.prune_failed")
            await sleep_or_stop(stop, self.interval)
