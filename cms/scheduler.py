"""Embargo and expiry: publishes what fell due and unpublishes what expired.

Runs inside the relay process. Safe with several running: each article is locked and its
status checked again before the transition, so the second one to arrive finds nothing to do.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import structlog

from cms.articles import service, store
from cms.platform.db import Connection, Pool
from cms.platform.identity import SYSTEM
from cms.platform.workers import sleep_or_stop

log = structlog.get_logger(__name__)

_BATCH = 100


async def run_due(pool: Pool, now: datetime | None = None) -> int:
    """One pass: every due publish and unpublish, each its own transaction; returns how many."""
    moment = now or datetime.now(UTC)
    done = 0
    async with pool.acquire() as conn:
        for article_id in await store.due_to_publish(conn, moment, _BATCH):
            done += await _one(conn, article_id, moment, publish=True)
        for article_id in await store.due_to_unpublish(conn, moment, _BATCH):
            done += await _one(conn, article_id, moment, publish=False)
    return done


async def _one(conn: Connection, article_id: uuid.UUID, now: datetime, *, publish: bool) -> int:
    # The scheduler's own correlation id: one per transition, so its events can be followed.
    ctx = service.Context(actor=SYSTEM, now=now, correlation_id=f"scheduler-{uuid.uuid4().hex}")
    structlog.contextvars.bind_contextvars(article_id=str(article_id), request_id=ctx.correlation_id)
    try:
        changed = await (service.publish_due if publish else service.unpublish_due)(conn, article_id, ctx)
    finally:
        structlog.contextvars.unbind_contextvars("article_id", "request_id")
    if changed is None:
        return 0
    log.info("article.published_on_schedule" if publish else "article.unpublished_on_schedule")
    return 1


class Scheduler:
    name = "scheduler"

    def __init__(self, pool: Pool, interval: float) -> None:
        self.pool = pool
        self.interval = interval

    def ready(self) -> bool:
        return True

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await run_due(self.pool)
            except Exception:
                log.exception("scheduler.failed")
            await sleep_or_stop(stop, self.interval)
