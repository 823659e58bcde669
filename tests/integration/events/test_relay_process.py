"""`cms relay` as operators run it: a real process, killed without warning, restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx2
import pytest

from cms.articles import service
from cms.articles.model import ArticleCreate
from cms.platform import db as cms_db
from cms.platform.identity import Actor
from cms.platform.tokens import Role
from cms.system import SystemSettings
from tests.helpers import free_port
from tests.integration.events.helpers import EventTap
from tests.services import AMQP_URL

BACKLOG = 3000


@pytest.fixture
def relay_env(event_settings: SystemSettings) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "CMS_DATABASE_URL": event_settings.database_url,
        "CMS_AMQP_URL": AMQP_URL,
        "CMS_AMQP_PREFIX": event_settings.amqp_prefix,
        "CMS_RELAY_PORT": str(free_port()),
        "CMS_RELAY_BATCH_SIZE": "100",
        "CMS_LOG_FORMAT": "json",
        "CMS_LOG_LEVEL": "warning",
    }


@pytest.fixture
async def backlog(settings: SystemSettings) -> int:
    conn = await cms_db.connect(settings)
    ctx = service.Context(actor=Actor("eddie", Role.editor), now=datetime.now(UTC), correlation_id="bulk")
    for n in range(BACKLOG):
        await service.create(conn, ArticleCreate(title=f"Meldung {n}", language="de"), ctx)
    await conn.close()
    return BACKLOG


async def _start(env: dict[str, str]) -> asyncio.subprocess.Process:
    cms = str(Path(sys.executable).parent / "cms")
    return await asyncio.create_subprocess_exec(
        cms, "relay", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )


async def _wait_until_sent(db: asyncpg.Connection[asyncpg.Record], at_least: int, within: float) -> None:
    async with asyncio.timeout(within):
        while await _sent(db) < at_least:  # noqa: ASYNC110 (polling another process's progress)
            await asyncio.sleep(0.01)


async def _sent(db: asyncpg.Connection[asyncpg.Record]) -> int:
    value: int = await db.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")
    return value


async def test_a_relay_killed_mid_backlog_loses_nothing_and_only_repeats_event_ids(
    relay_env: dict[str, str], backlog: int, tap: EventTap, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """A `cms relay` killed mid-backlog loses no event; the next one resends at most the batch in flight."""
    first = await _start(relay_env)
    try:
        await _wait_until_sent(db, 1, within=30)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    sent_when_killed = await _sent(db)

    second = await _start(relay_env)
    try:
        await _wait_until_sent(db, backlog, within=60)
        received = await tap.take(backlog, within=30)
        received += await tap.quiet(1.0)
    finally:
        second.send_signal(signal.SIGTERM)
        code = await second.wait()

    ids = [m.message_id for m in received]
    expected = [str(r["event_id"]) for r in await db.fetch("SELECT event_id FROM outbox ORDER BY sequence")]
    first_seen = list(dict.fromkeys(ids))
    assert sent_when_killed < backlog, "the kill came too late to test anything"
    assert first_seen == expected  # nothing lost, first deliveries in order
    assert len(ids) - len(first_seen) <= 100  # at most the batch in flight was sent twice
    assert code == 0


async def test_relay_process_reports_ready_with_the_broker_and_drains_on_sigterm(
    relay_env: dict[str, str], tap: EventTap
) -> None:
    """`cms relay` reports ready on all its checks, exports its leadership and exits 0 on SIGTERM."""
    relay = await _start(relay_env)
    url = f"http://127.0.0.1:{relay_env['CMS_RELAY_PORT']}"
    try:
        async with httpx2.AsyncClient(base_url=url) as client:
            ready = None
            async with asyncio.timeout(15):
                while ready is None or ready.status_code != 200:
                    await asyncio.sleep(0.1)
                    try:
                        ready = await client.get("/readyz")
                    except httpx2.ConnectError:
                        continue
            metrics = await client.get("/metrics")
    finally:
        relay.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(relay.wait(), timeout=15)

    assert ready.json()["checks"] == {
        "database": True,
        "relay": True,
        "scheduler": True,
        "event-log-pruner": True,
    }
    assert "cms_relay_leader 1.0" in metrics.text
    assert code == 0
