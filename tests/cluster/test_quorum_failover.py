"""Losing the node that leads a consumer's quorum queue, while 5,000 events flow, loses and
duplicates nothing. Opt-in (`make test-cluster`): it starts its own three-node cluster."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from cms.articles import service
from cms.articles.model import ArticleCreate, ArticleUpdate
from cms.events.contract import ArticleEvent
from cms.events.relay import Relay
from cms.platform import db as cms_db
from cms.platform.db import Connection
from cms.platform.identity import Actor
from cms.platform.tokens import Role
from cms.system import SystemSettings
from consumers.runtime.runner import Consumer
from consumers.runtime.settings import ConsumerSettings
from consumers.runtime.spec import Bound, ConsumerSpec
from tests.cluster.rabbit import Cluster

pytestmark = pytest.mark.cluster

ARTICLES = 1000
VERSIONS = 5  # created + 4 updates: 5,000 events


async def _count(conn: Connection, event: ArticleEvent) -> None:
    await conn.execute(
        "INSERT INTO counter.applications (event_id, article_id, version) VALUES ($1, $2, $3) "
        "ON CONFLICT (event_id) DO UPDATE SET times = counter.applications.times + 1",
        event.id,
        event.data.id,
        event.articleversion,
    )


COUNTER = ConsumerSpec(
    name="counter",
    schema="counter",
    migrations=Path(__file__).parent / "counter_migrations",
    settings_class=ConsumerSettings,
    bind=lambda settings: Bound(_count),
    store_url=lambda settings: None,
    port=lambda settings: 0,
)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    started = Cluster(tmp_path)
    try:
        started.start()
        yield started
    finally:
        started.stop()


async def _write_events(settings: SystemSettings, progress: list[int]) -> None:
    """1,000 articles, each created and updated four times, at a steady pace (~10 s)."""
    actor = Actor("cluster-test", Role.editor)
    async with cms_db.create_pool(settings) as pool:
        ids = []
        for n in range(ARTICLES):
            async with pool.acquire() as conn:
                ctx = service.Context(actor=actor, now=datetime.now(UTC), correlation_id=f"c-{n}")
                ids.append(
                    (await service.create(conn, ArticleCreate(title=f"Meldung {n}", language="de"), ctx)).id
                )
            progress[0] += 1
            if n % 100 == 0:
                await asyncio.sleep(0.1)
        for version in range(2, VERSIONS + 1):
            for n, article_id in enumerate(ids):
                async with pool.acquire() as conn:
                    ctx = service.Context(actor=actor, now=datetime.now(UTC), correlation_id=f"u-{n}")
                    await service.update(
                        conn, article_id, ArticleUpdate(lead=f"Fassung {version}"), None, ctx
                    )
                progress[0] += 1
                if n % 100 == 0:
                    await asyncio.sleep(0.1)


async def test_stopping_the_quorum_queue_leader_mid_stream_loses_and_duplicates_nothing(
    cluster: Cluster, settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Stopping the quorum queue's leader mid-stream loses no event and applies none twice."""
    run = settings.model_copy(
        update={
            "amqp_url": cluster.urls,
            "amqp_prefix": f"cluster{uuid.uuid4().hex[:6]}",
            "relay_poll_interval": 0.2,
            "consumer_retry_delays": (0.5, 1.0),
            "consumer_prefetch": 50,
        }
    )
    stop = asyncio.Event()
    consumer = Consumer(COUNTER, run, CollectorRegistry())
    workers = [asyncio.create_task(Relay(run).run(stop)), asyncio.create_task(consumer.run(stop))]
    async with asyncio.timeout(60):
        while not consumer.ready():  # noqa: ASYNC110 (waiting for another component)
            await asyncio.sleep(0.1)

    progress = [0]
    started = time.monotonic()
    writer = asyncio.create_task(_write_events(run, progress))
    async with asyncio.timeout(120):
        while await _applied(db) < 2000:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    leader = cluster.leader_of(f"{run.amqp_prefix}.counter")
    applied_at_stop = await _applied(db)
    cluster.stop_node(leader)
    stopped_at = time.monotonic() - started

    await writer
    async with asyncio.timeout(300):
        while await _final_articles(db) < ARTICLES:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
    elapsed = time.monotonic() - started
    stop.set()
    await asyncio.gather(*workers)

    times = await db.fetch("SELECT times, count(*) AS n FROM counter.applications GROUP BY times")
    applied = await _applied(db)
    unsent = await db.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    print(  # the figures for the closing note (run with -s)
        f"\ncluster run: {ARTICLES * VERSIONS} events, leader {leader.name} stopped after "
        f"{applied_at_stop} applied ({stopped_at:.1f} s); all {ARTICLES} articles at version {VERSIONS} "
        f"after {elapsed:.1f} s; events applied {applied}, superseded before arrival "
        f"{ARTICLES * VERSIONS - applied}; applications per event {[(r['times'], r['n']) for r in times]}"
    )
    assert progress[0] == ARTICLES * VERSIONS
    assert unsent == 0
    assert [r["times"] for r in times] == [1]  # no event applied twice
    assert await _final_articles(db) == ARTICLES  # every article reached its last version


async def _applied(db: asyncpg.Connection[asyncpg.Record]) -> int:
    found: int = await db.fetchval("SELECT count(*) FROM counter.applications")
    return found


async def _final_articles(db: asyncpg.Connection[asyncpg.Record]) -> int:
    found: int = await db.fetchval(
        "SELECT count(*) FROM counter.applied_versions WHERE version = $1", VERSIONS
    )
    return found
