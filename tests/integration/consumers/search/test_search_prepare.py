"""The search consumer computes a document and its additions before the transaction that
writes it, so that no transaction of it waits for the CPU holding a connection and locks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx2
from prometheus_client import CollectorRegistry

from cms.events.contract import ArticleEvent
from cms.platform.db import Connection
from cms.system import SystemSettings
from consumers.runtime.runner import Consumer
from consumers.search import SPEC as SEARCH
from consumers.search.compounds import Splitter
from consumers.search.handler import Indexer
from tests.helpers import create_draft, eventually, fixture, publish
from tests.integration.consumers.helpers import delete_consumer_queues, outbox_events, send_to_queue


class CountingSplitter(Splitter):
    """A splitter that counts the words it is asked to split."""

    def __init__(self, dic: Path | None) -> None:
        super().__init__(dic)
        self.calls = 0

    def parts(self, word: str) -> list[str]:
        self.calls += 1
        return super().parts(word)


async def _published_event(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record], title: str
) -> ArticleEvent:
    fields = {**fixture("article-luxusgueter.de.json"), "title": title}
    article = await publish(api, token["editor"], await create_draft(api, token["editor"], **fields))
    return ArticleEvent.model_validate_json((await outbox_events(db, article["id"]))[-1])


async def test_a_prepared_event_is_written_without_computing_its_document_again(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """After prepare, apply writes the document it prepared (no splitting in the transaction);
    without prepare, apply computes it itself and writes the same."""
    event = await _published_event(api, token, db, "Luxusgüterverbot beschlossen")
    splitter = CountingSplitter(consumer_settings.search_compound_dictionary)
    indexer = Indexer(splitter)

    await indexer.prepare(event)
    prepared_calls = splitter.calls
    async with db.transaction():
        await indexer.apply(db, event)

    assert prepared_calls > 0
    assert splitter.calls == prepared_calls  # nothing computed while the transaction was open
    first = await db.fetchrow(
        "SELECT version, tsv FROM search.documents WHERE article_id = $1", event.data.id
    )
    assert first is not None
    assert first["version"] == event.articleversion

    fresh = Indexer(CountingSplitter(consumer_settings.search_compound_dictionary))
    async with db.transaction():
        await fresh.apply(db, event)
    again = await db.fetchrow("SELECT tsv FROM search.documents WHERE article_id = $1", event.data.id)
    assert again is not None
    assert again["tsv"] == first["tsv"]


async def test_the_consumer_prepares_each_event_before_its_transaction_opens(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """The runner calls prepare with no transaction of the consumer open, then apply inside one."""
    event = await _published_event(api, token, db, "Zollstreit beigelegt")
    calls: list[tuple[str, object]] = []

    async def prepare(seen: ArticleEvent) -> None:
        open_transactions = await db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cms-search' "
            "AND datname = current_database() AND state LIKE 'idle in transaction%'"
        )
        calls.append(("prepare", (seen.id, open_transactions)))

    async def apply(conn: Connection, seen: ArticleEvent) -> None:
        calls.append(("apply", (seen.id, conn.is_in_transaction())))

    consumer = Consumer(SEARCH, consumer_settings, CollectorRegistry(), apply=apply, prepare=prepare)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(lambda: _ready(consumer), within=15)
        await send_to_queue(
            SEARCH.queue(consumer_settings), (await outbox_events(db, str(event.data.id)))[-1]
        )
        await eventually(lambda: _has(calls, "apply"), within=10)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await delete_consumer_queues(consumer_settings, SEARCH.queue(consumer_settings))

    assert calls == [("prepare", (event.id, 0)), ("apply", (event.id, True))]


async def _ready(consumer: Consumer) -> bool:
    return consumer.ready()


async def _has(calls: list[tuple[str, object]], name: str) -> bool:
    return any(call[0] == name for call in calls)
