"""The relay: every committed event reaches the broker once, in order, whatever fails."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx2
import pytest

from cms.articles import service
from cms.articles.model import ArticleCreate
from cms.platform import db as cms_db
from cms.platform.identity import Actor
from cms.platform.tokens import Role
from cms.system import SystemSettings
from tests.helpers import bearer, create_draft, patch, publish
from tests.integration.events.helpers import EventTap, RelayStarter, body
from tests.proxy import TcpProxy


async def _until_all_sent(db: asyncpg.Connection[asyncpg.Record]) -> None:
    async with asyncio.timeout(5):
        while await _unsent(db):  # noqa: ASYNC110 (polling the relay's progress)
            await asyncio.sleep(0.01)


async def _unsent(db: asyncpg.Connection[asyncpg.Record]) -> int:
    value: int = await db.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    return value


async def test_every_committed_write_gives_one_message_with_the_cloudevent_attributes(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    tap: EventTap,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """One write gives one persistent message with CloudEvent headers and the request id; the row is sent."""
    response = await api.post(
        "/v1/admin/articles",
        json={"title": "Stabschefs", "language": "de"},
        headers={**bearer(token["editor"]), "X-Request-ID": "req-42"},
    )
    article = response.json()

    async with running_relay():
        [message] = await tap.take(1)
        assert await tap.quiet() == []

    event = body(message)
    row = await db.fetchrow("SELECT sequence, event_id, sent_at FROM outbox")
    assert row is not None
    assert message.message_id == str(row["event_id"]) == event["id"]
    assert message.content_type == "application/cloudevents+json"
    assert message.delivery_mode == 2
    assert message.correlation_id == "req-42"
    assert message.type == "cms.article.created"
    assert message.timestamp is not None
    assert message.routing_key == "article.created"
    assert event["type"] == "cms.article.created"
    assert event["sequence"] == str(row["sequence"])
    assert event["articleversion"] == 1
    assert event["subject"] == article["id"]
    assert event["data"] == article
    assert row["sent_at"] is not None


async def test_a_rolled_back_write_gives_no_message(
    settings: SystemSettings,
    tap: EventTap,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A write that rolls back leaves no outbox row and the relay publishes nothing."""
    conn = await cms_db.connect(settings)
    ctx = service.Context(actor=Actor("eddie", Role.editor), now=_now(), correlation_id="rolled-back")
    try:
        with pytest.raises(RuntimeError):
            await _create_then_fail(conn, ctx)
    finally:
        await conn.close()

    async with running_relay():
        assert await tap.quiet(1.0) == []
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0


async def test_events_of_one_article_arrive_in_the_order_they_happened(
    api: httpx2.AsyncClient, token: dict[str, str], tap: EventTap, running_relay: RelayStarter
) -> None:
    """Seven changes to one article arrive as versions 1 to 7, in order."""
    article = await create_draft(api, token["editor"])
    for n in range(5):
        article = (await patch(api, token["editor"], article, lead=f"Fassung {n}")).json()
    await publish(api, token["editor"], article)

    async with running_relay():
        messages = await tap.take(7)

    assert [body(m)["articleversion"] for m in messages] == [1, 2, 3, 4, 5, 6, 7]
    assert [m.routing_key for m in messages][-1] == "article.published"


async def test_writes_go_on_while_the_broker_is_down_and_all_events_arrive_in_order_after(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    tap: EventTap,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """With the broker down, edits still succeed and queue up; once back, all arrive once, in order."""
    async with (
        TcpProxy("127.0.0.1", 5672) as broker,
        running_relay(amqp_url=f"amqp://guest:guest@127.0.0.1:{broker.port}/") as relay,
    ):
        first = await create_draft(api, token["editor"], title="Vor dem Ausfall")
        await tap.take(1)

        broker.cut()
        article = first
        for n in range(10):
            response = await patch(api, token["editor"], article, lead=f"während {n}")
            assert response.status_code == 200
            article = response.json()
        await asyncio.sleep(0.5)
        assert await _unsent(db) == 10
        assert not relay.broker_connected

        broker.restore()
        messages = await tap.take(10, within=30)

    assert [body(m)["articleversion"] for m in messages] == list(range(2, 12))
    assert await tap.quiet() == []
    assert await _unsent(db) == 0


async def test_an_unroutable_event_is_kept_and_retried_until_a_queue_exists(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    event_settings: SystemSettings,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """No queue bound yet: the broker returns the mandatory message; it must not count as sent."""
    await create_draft(api, token["editor"])

    async with running_relay():
        await asyncio.sleep(1.0)
        assert await _unsent(db) == 1


async def test_a_row_that_commits_late_is_published_even_after_higher_ones(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    settings: SystemSettings,
    tap: EventTap,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A row that commits after one with a higher sequence is still published, not skipped."""
    slow = await cms_db.connect(settings)
    ctx = service.Context(actor=Actor("eddie", Role.editor), now=_now(), correlation_id="slow")
    try:
        async with running_relay():
            tx = slow.transaction()
            await tx.start()
            late = await service.create(slow, ArticleCreate(title="Spät", language="de"), ctx)
            early = await create_draft(api, token["editor"], title="Früh")  # takes a higher sequence
            [first] = await tap.take(1)
            await tx.commit()
            [second] = await tap.take(1)
    finally:
        await slow.close()

    assert body(first)["subject"] == early["id"]
    assert body(second)["subject"] == str(late.id)
    assert int(body(second)["sequence"]) < int(body(first)["sequence"])


async def test_two_relays_at_once_publish_each_row_once_and_in_order(
    api: httpx2.AsyncClient, token: dict[str, str], tap: EventTap, running_relay: RelayStarter
) -> None:
    """With two relays running, one leads, and each of 40 events goes out once, in sequence order."""
    articles = [await create_draft(api, token["editor"], title=f"Artikel {n}") for n in range(20)]
    for article in articles:
        await patch(api, token["editor"], article, lead="geändert")

    async with running_relay() as one, running_relay() as two:
        messages = await tap.take(40)
        assert await tap.quiet(1.0) == []
        assert sorted([one.is_leader, two.is_leader]) == [False, True]

    sequences = [int(body(m)["sequence"]) for m in messages]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 40


async def test_a_standby_relay_takes_over_when_the_active_one_stops(
    api: httpx2.AsyncClient, token: dict[str, str], tap: EventTap, running_relay: RelayStarter
) -> None:
    """When the active relay stops, the standby takes over and publishes the next event."""
    async with running_relay() as standby:
        async with running_relay() as active:
            await asyncio.sleep(0.5)
            if standby.is_leader:
                active, standby = standby, active
            await create_draft(api, token["editor"], title="Vorher")
            await tap.take(1)
        await create_draft(api, token["editor"], title="Nachher")
        [after] = await tap.take(1, within=10)

    assert body(after)["data"]["title"] == "Nachher"


async def test_a_failed_mark_after_the_broker_confirmed_redelivers_the_same_ids_and_loses_none(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    tap: EventTap,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """The worst moment to die: the broker confirmed, the row is not marked sent yet."""
    for n in range(5):
        await create_draft(api, token["editor"], title=f"Meldung {n}")
    event_ids = [str(r["event_id"]) for r in await db.fetch("SELECT event_id FROM outbox ORDER BY sequence")]
    # The first attempt to mark rows sent fails, as if the relay died right after the confirms.
    await db.execute("""
        CREATE SEQUENCE mark_attempts;  -- nextval survives the rollback of the failing UPDATE
        CREATE FUNCTION fail_first_mark() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF nextval('mark_attempts') = 1 THEN
                RAISE EXCEPTION 'relay died before marking';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER fail_first_mark BEFORE UPDATE ON outbox
            FOR EACH STATEMENT EXECUTE FUNCTION fail_first_mark();
    """)

    async with running_relay():
        messages = await tap.take(10, within=20)
        assert await tap.quiet() == []

    assert [m.message_id for m in messages] == event_ids + event_ids
    assert all(body(m)["id"] == m.message_id for m in messages)
    assert await _unsent(db) == 0


async def _create_then_fail(conn: Any, ctx: service.Context) -> None:
    async with conn.transaction():
        await service.create(conn, ArticleCreate(title="Nie", language="de"), ctx)
        raise RuntimeError("the editor's save failed after the insert")


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_the_relay_survives_the_database_going_away_and_resumes_without_loss(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    tap: EventTap,
    running_relay: RelayStarter,
    settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """The relay gives up leadership while the database is gone and sends every missed event after."""
    async with TcpProxy("127.0.0.1", 5432) as database:
        dsn = settings.database_url.replace("127.0.0.1:5432", f"127.0.0.1:{database.port}")
        async with running_relay(database_url=dsn) as relay:
            article = await create_draft(api, token["editor"], title="Vorher")
            await tap.take(1)
            await _until_all_sent(db)  # else "Vorher" may come again, which is allowed but not this test

            database.cut()
            await asyncio.sleep(0.5)
            assert not relay.is_leader
            for n in range(5):  # the API has its own way to the database: writes go on
                article = (await patch(api, token["editor"], article, lead=f"während {n}")).json()

            database.restore()
            messages = await tap.take(5, within=30)

    assert [body(m)["articleversion"] for m in messages] == [2, 3, 4, 5, 6]
    assert await tap.quiet() == []
    assert await _unsent(db) == 0
