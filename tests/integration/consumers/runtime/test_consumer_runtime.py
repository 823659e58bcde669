"""The consumer runtime, proven with the search consumer: versions, retries, DLQ, crashes, drains."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx2
import pytest
from prometheus_client import CollectorRegistry

from cms.events import replay
from cms.system import SystemSettings
from consumers import dlq
from consumers.runtime.runner import REASON_HEADER, Consumer
from consumers.runtime.topology import dlq_name
from consumers.search import SPEC as SEARCH
from tests.helpers import create_draft, eventually, free_port, patch, publish
from tests.integration.consumers.helpers import delete_consumer_queues, outbox_events, send_to_queue
from tests.proxy import TcpProxy
from tests.services import AMQP_URL


async def _indexed(db: asyncpg.Connection[asyncpg.Record], article_id: str) -> asyncpg.Record | None:
    return await db.fetchrow("SELECT title, version FROM search.documents WHERE article_id = $1", article_id)


async def _dlq_messages(settings: SystemSettings) -> list[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    queue = await channel.get_queue(dlq_name(SEARCH.queue(settings)))
    found = []
    while (message := await queue.get(fail=False)) is not None:
        found.append(message)
    for message in found:
        await message.nack(requeue=True)
    await connection.close()
    return found


async def _published_article(api: httpx2.AsyncClient, token: dict[str, str], title: str) -> dict[str, Any]:
    article = await publish(api, token["editor"], await create_draft(api, token["editor"], title=title))
    updated: dict[str, Any] = (
        await patch(api, token["editor"], article, title=f"{title} (aktualisiert)")
    ).json()
    return updated


async def test_a_stale_or_duplicate_event_changes_nothing(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Redelivered and older events are skipped and counted; the index keeps the newest version."""
    article = await _published_article(api, token, "Reiher")
    created, published, updated = await outbox_events(db, article["id"])
    queue = SEARCH.queue(consumer_settings)

    await send_to_queue(queue, created, published, updated)
    await eventually(lambda: _has_version(db, article["id"], 3))
    await send_to_queue(queue, updated, published, updated, created)  # redeliveries and stale ones
    await asyncio.sleep(1.0)

    row = await _indexed(db, article["id"])
    assert row is not None
    assert (row["title"], row["version"]) == ("Reiher (aktualisiert)", 3)
    handled = (await search_app.get("/metrics")).text
    assert 'cms_consumer_handled_total{consumer="search",outcome="skipped"} 4.0' in handled


async def _has_version(db: asyncpg.Connection[asyncpg.Record], article_id: str, version: int) -> bool:
    row = await _indexed(db, article_id)
    return row is not None and row["version"] == version


async def test_a_poison_message_lands_in_the_dlq_with_its_reason_and_the_next_one_is_handled(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """An invalid event is dead-lettered with its reason, and the events behind it are applied."""
    article = await _published_article(api, token, "Kranich")
    queue = SEARCH.queue(consumer_settings)

    await send_to_queue(
        queue,
        b'{"specversion": "1.0", "type": "cms.article.published"}',
        *await outbox_events(db, article["id"]),
    )
    await eventually(lambda: _has_version(db, article["id"], 3))

    [poison] = await _dlq_messages(consumer_settings)
    reason = (poison.headers or {})[REASON_HEADER]
    assert isinstance(reason, str | bytes)
    assert "invalid event" in (reason.decode() if isinstance(reason, bytes) else reason)


async def test_a_failing_handler_is_retried_with_delay_and_applied_once(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Two failed writes are retried after a delay, then the event is applied; nothing is dead-lettered."""
    article = await _published_article(api, token, "Storch")
    await _fail_index_writes(db, times=2)

    await send_to_queue(SEARCH.queue(consumer_settings), (await outbox_events(db, article["id"]))[-1])
    await eventually(lambda: _has_version(db, article["id"], 3), within=15)

    metrics = (await search_app.get("/metrics")).text
    assert 'cms_consumer_retried_total{consumer="search"} 2.0' in metrics
    assert await _dlq_messages(consumer_settings) == []


async def test_a_message_that_keeps_failing_goes_to_the_dlq_after_max_attempts(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """After max attempts the message is dead-lettered with the count, and nothing half-applied remains."""
    article = await _published_article(api, token, "Möwe")
    await _fail_index_writes(db, times=1000)

    await send_to_queue(SEARCH.queue(consumer_settings), (await outbox_events(db, article["id"]))[-1])
    await eventually(lambda: _dlq_count(consumer_settings, 1), within=15)

    [dead] = await _dlq_messages(consumer_settings)
    reason = str((dead.headers or {})[REASON_HEADER])
    assert "failed 3 times" in reason
    assert await _indexed(db, article["id"]) is None
    assert await db.fetchval("SELECT count(*) FROM search.applied_versions") == 0


async def _dlq_count(settings: SystemSettings, expected: int) -> bool:
    return len(await _dlq_messages(settings)) == expected


async def test_dlq_requeue_puts_dead_letters_back_and_they_are_applied_once_fixed(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """`dlq list` shows the dead letter and why; once fixed, `dlq requeue` brings it back to be applied."""
    article = await _published_article(api, token, "Schwan")
    await _fail_index_writes(db, times=1000)
    await send_to_queue(SEARCH.queue(consumer_settings), (await outbox_events(db, article["id"]))[-1])
    await eventually(lambda: _dlq_count(consumer_settings, 1), within=15)
    # Our own peek gives the message back through the quorum queue's log: list once it is back.
    listing: list[str] = []

    async def listed_once_back() -> bool:
        listing[:] = await dlq.list_messages(consumer_settings, SEARCH, limit=10)
        return listing[0].startswith("1 message(s)")

    await eventually(listed_once_back, within=5)

    await db.execute("DROP TRIGGER fail_index_writes ON search.documents")
    moved = await dlq.requeue(consumer_settings, SEARCH)
    await eventually(lambda: _has_version(db, article["id"], 3))

    assert listing[0] == f"1 message(s) in {dlq_name(SEARCH.queue(consumer_settings))}"
    assert "failed 3 times" in listing[1]
    assert moved == 1
    assert await _dlq_messages(consumer_settings) == []


async def test_dlq_purge_empties_it(
    search_app: httpx2.AsyncClient, consumer_settings: SystemSettings
) -> None:
    """`dlq purge` removes every dead letter and says how many."""
    await send_to_queue(SEARCH.queue(consumer_settings), b"not json", b"{}")
    await eventually(lambda: _dlq_count(consumer_settings, 2))

    purged = await dlq.purge(consumer_settings, SEARCH)

    assert purged == 2
    assert await _dlq_messages(consumer_settings) == []


async def _fail_index_writes(db: asyncpg.Connection[asyncpg.Record], times: int) -> None:
    await db.execute(f"""
        CREATE SEQUENCE index_failures;
        CREATE FUNCTION fail_index_writes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF nextval('index_failures') <= {int(times)} THEN
                RAISE EXCEPTION 'index temporarily broken';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER fail_index_writes BEFORE INSERT OR UPDATE ON search.documents
            FOR EACH ROW EXECUTE FUNCTION fail_index_writes();
    """)


# ---- the consumer as an operator runs it: a process that can be killed ----


@pytest.fixture
async def consumer_env(consumer_settings: SystemSettings) -> AsyncIterator[dict[str, str]]:
    yield {
        "PATH": os.environ.get("PATH", ""),
        "CMS_DATABASE_URL": consumer_settings.database_url,
        "CMS_AMQP_URL": AMQP_URL,
        "CMS_AMQP_PREFIX": consumer_settings.amqp_prefix,
        "CMS_SEARCH_PORT": str(free_port()),
        "CMS_LOG_FORMAT": "json",
        "CMS_LOG_LEVEL": "warning",
    }
    await delete_consumer_queues(consumer_settings, SEARCH.queue(consumer_settings))


async def _start_consumer(env: dict[str, str]) -> asyncio.subprocess.Process:
    command = str(Path(sys.executable).parent / "cms-consumer")
    process = await asyncio.create_subprocess_exec(
        command, "search", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{env['CMS_SEARCH_PORT']}/readyz"
    async with httpx2.AsyncClient() as client:
        await eventually(lambda: _answers_200(client, url), within=20)
    return process


async def _answers_200(client: httpx2.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url)).status_code == 200
    except httpx2.TransportError:
        return False


async def _slow_index_writes(db: asyncpg.Connection[asyncpg.Record], seconds: float) -> None:
    await db.execute(f"""
        CREATE FUNCTION slow_index_writes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep({float(seconds)}); RETURN NEW; END $$;
        CREATE TRIGGER slow_index_writes BEFORE INSERT OR UPDATE ON search.documents
            FOR EACH ROW EXECUTE FUNCTION slow_index_writes();
    """)


async def _in_progress(db: asyncpg.Connection[asyncpg.Record]) -> bool:
    found = await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cms-search'"
        " AND query LIKE '%search.documents%' AND state = 'active'"
    )
    return bool(found)


async def test_a_consumer_killed_mid_message_loses_nothing_and_applies_it_once(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_env: dict[str, str],
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A consumer killed mid-write leaves nothing applied; the next process applies the event exactly once."""
    article = await _published_article(api, token, "Pelikan")
    first = await _start_consumer(consumer_env)
    try:
        await _slow_index_writes(db, 5)
        await send_to_queue(SEARCH.queue(consumer_settings), (await outbox_events(db, article["id"]))[-1])
        await eventually(lambda: _in_progress(db), within=10)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    await db.execute("DROP TRIGGER slow_index_writes ON search.documents")
    assert await _indexed(db, article["id"]) is None

    second = await _start_consumer(consumer_env)
    try:
        await eventually(lambda: _has_version(db, article["id"], 3), within=20)
    finally:
        second.send_signal(signal.SIGTERM)
        await second.wait()

    assert await db.fetchval("SELECT count(*) FROM search.documents") == 1
    assert await db.fetchval("SELECT version FROM search.applied_versions") == 3


async def test_sigterm_finishes_the_message_in_hand_acks_it_and_exits_0(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_env: dict[str, str],
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """On SIGTERM the consumer finishes and acks the message in hand, then exits 0 with its queue empty."""
    article = await _published_article(api, token, "Flamingo")
    consumer = await _start_consumer(consumer_env)
    try:
        await _slow_index_writes(db, 1.5)
        await send_to_queue(SEARCH.queue(consumer_settings), (await outbox_events(db, article["id"]))[-1])
        await eventually(lambda: _in_progress(db), within=10)
    finally:
        consumer.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(consumer.wait(), timeout=30)

    assert code == 0
    assert await _has_version(db, article["id"], 3)
    assert await _queue_depth(SEARCH.queue(consumer_settings)) == 0


async def _queue_depth(name: str) -> int:
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    queue = await channel.get_queue(name)
    declared = await queue.declare()
    await connection.close()
    return int(declared.message_count or 0)


async def test_an_empty_index_fills_from_a_resync(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A resync after the log was pruned fills an empty index with exactly the live articles."""
    live = [await _published_article(api, token, f"Eisvogel {n}") for n in range(3)]
    await create_draft(api, token["editor"], title="Eisvogel Entwurf")
    await db.execute("DELETE FROM outbox")  # the log was pruned long ago

    sent = await replay.resync(consumer_settings, SEARCH.queue(consumer_settings), progress=lambda n: None)
    await eventually(lambda: _indexed_count(db, 3))

    assert sent == 4
    indexed = {str(r["article_id"]) for r in await db.fetch("SELECT article_id FROM search.documents")}
    assert indexed == {a["id"] for a in live}


async def _indexed_count(db: asyncpg.Connection[asyncpg.Record], expected: int) -> bool:
    return bool(await db.fetchval("SELECT count(*) FROM search.documents") == expected)


async def test_the_consumer_survives_losing_the_broker_and_consumes_again_when_it_returns(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Without the broker the consumer turns unready; when it returns the consumer applies what waited."""
    article = await _published_article(api, token, "Rohrdommel")
    async with TcpProxy("127.0.0.1", 5672) as broker:
        settings = consumer_settings.model_copy(
            update={"amqp_url": f"amqp://guest:guest@127.0.0.1:{broker.port}/"}
        )
        consumer = Consumer(SEARCH, settings, CollectorRegistry())
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        try:
            await eventually(lambda: _is(consumer.ready), within=15)
            broker.cut()
            await eventually(lambda: _is(lambda: not consumer.ready()), within=10)
            await send_to_queue(SEARCH.queue(consumer_settings), (await outbox_events(db, article["id"]))[-1])
            await asyncio.sleep(0.5)
            assert await _indexed(db, article["id"]) is None

            broker.restore()
            await eventually(lambda: _has_version(db, article["id"], 3), within=30)
            assert consumer.ready()
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
    await delete_consumer_queues(consumer_settings, SEARCH.queue(consumer_settings))


async def test_an_unreachable_store_puts_messages_back_without_spending_attempts(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """While its database is unreachable, messages wait without using up attempts; none is dead-lettered."""
    article = await _published_article(api, token, "Silberreiher")
    async with TcpProxy("127.0.0.1", 5432) as database:
        dsn = consumer_settings.database_url.replace("127.0.0.1:5432", f"127.0.0.1:{database.port}")
        settings = consumer_settings.model_copy(update={"search_database_url": dsn})
        consumer = Consumer(SEARCH, settings, CollectorRegistry())
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        try:
            await eventually(lambda: _is(consumer.ready), within=15)
            database.cut()
            await send_to_queue(SEARCH.queue(consumer_settings), (await outbox_events(db, article["id"]))[-1])
            await asyncio.sleep(2.0)  # longer than max_attempts x the retry delays
            database.restore()
            await eventually(lambda: _has_version(db, article["id"], 3), within=30)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
    assert await _dlq_messages(consumer_settings) == []
    await delete_consumer_queues(consumer_settings, SEARCH.queue(consumer_settings))


async def _is(check: Callable[[], bool]) -> bool:
    return check()
