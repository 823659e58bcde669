"""Replay and resync: rebuilding one consumer's queue from the log or from current state."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx2
import orjson
import pytest
from aio_pika.abc import AbstractQueue
from cloudevents.core.bindings import rabbitmq
from cloudevents.core.formats.json import JSONFormat

from cms.events import replay
from cms.events.contract import RESYNC_LAST, RESYNC_RUN, ArticleEvent
from cms.system import SystemSettings
from tests.helpers import create_draft, patch, publish
from tests.integration.events.helpers import EventTap, RelayStarter, body
from tests.services import AMQP_URL


@pytest.fixture
async def rebuild_queue(event_settings: SystemSettings) -> AsyncIterator[AbstractQueue]:
    """A consumer's queue that nothing routes to: only replay can fill it."""
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    queue = await channel.declare_queue(f"{event_settings.amqp_prefix}.rebuild", durable=True)
    yield queue
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()


async def _drain(queue: AbstractQueue, expected: int) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while len(bodies) < expected:
            message = await queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            bodies.append(orjson.loads(message.body))
    return bodies


async def test_replay_sends_the_stored_events_in_order_to_one_queue_only(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    event_settings: SystemSettings,
    rebuild_queue: AbstractQueue,
    tap: EventTap,
) -> None:
    """Replay sends the stored events in order to the named queue alone; the exchange sees none."""
    article = await create_draft(api, token["editor"])
    article = (await patch(api, token["editor"], article, lead="neu")).json()
    await publish(api, token["editor"], article)

    sent = await replay.replay(
        event_settings, rebuild_queue.name, since=None, article_id=None, progress=lambda n: None
    )

    bodies = await _drain(rebuild_queue, 3)
    assert sent == 3
    assert [b["type"] for b in bodies] == [
        "cms.article.created",
        "cms.article.updated",
        "cms.article.published",
    ]
    assert await tap.quiet(0.3) == []  # the exchange, and so every other consumer, saw nothing


async def test_replay_can_be_limited_to_one_article_and_a_time(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    event_settings: SystemSettings,
    rebuild_queue: AbstractQueue,
) -> None:
    """Replay limited to one article sends only its events; a start in the future sends nothing."""
    one = await create_draft(api, token["editor"], title="Eins")
    await create_draft(api, token["editor"], title="Zwei")
    await patch(api, token["editor"], one, lead="neu")
    future = datetime.now(UTC) + timedelta(hours=1)

    only_one = await replay.replay(
        event_settings,
        rebuild_queue.name,
        since=None,
        article_id=uuid.UUID(one["id"]),
        progress=lambda n: None,
    )
    nothing = await replay.replay(
        event_settings, rebuild_queue.name, since=future, article_id=None, progress=lambda n: None
    )

    bodies = await _drain(rebuild_queue, 2)
    assert (only_one, nothing) == (2, 0)
    assert {b["subject"] for b in bodies} == {one["id"]}


async def test_replay_to_a_queue_that_does_not_exist_fails_loudly(
    api: httpx2.AsyncClient, token: dict[str, str], event_settings: SystemSettings
) -> None:
    """Replay to a queue that does not exist raises instead of reporting success."""
    await create_draft(api, token["editor"])

    with pytest.raises(aio_pika.exceptions.PublishError):
        await replay.replay(
            event_settings,
            f"{event_settings.amqp_prefix}.nobody",
            since=None,
            article_id=None,
            progress=lambda n: None,
        )


async def test_resync_sends_the_current_state_of_every_article_once(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    event_settings: SystemSettings,
    rebuild_queue: AbstractQueue,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """After the log is pruned, resync sends each article's current state once as a valid event."""
    draft = await create_draft(api, token["editor"], title="Entwurf")
    live = await publish(api, token["editor"], await create_draft(api, token["editor"], title="Live"))
    await patch(api, token["editor"], draft, lead="zweite Fassung")
    await db.execute("DELETE FROM outbox")  # the log was pruned

    sent = await replay.resync(event_settings, rebuild_queue.name, progress=lambda n: None)

    bodies = sorted(await _drain(rebuild_queue, 2), key=lambda b: str(b["data"]["title"]))
    assert sent == 2
    assert [(b["type"], b["articleversion"]) for b in bodies] == [
        ("cms.article.updated", 2),
        ("cms.article.published", live["version"]),
    ]
    for b in bodies:
        ArticleEvent.model_validate(b)


async def test_resync_marks_its_run_on_every_event_and_the_last_one_as_last(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    event_settings: SystemSettings,
    rebuild_queue: AbstractQueue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every resync event names the run; only the last one, across batches, carries the count."""
    monkeypatch.setattr(replay, "BATCH", 2)  # three articles: two batches, the last one short
    for n in range(3):
        await create_draft(api, token["editor"], title=f"Artikel {n}")

    sent = await replay.resync(event_settings, rebuild_queue.name, progress=lambda n: None)

    headers: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while len(headers) < 3:
            message = await rebuild_queue.get(fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            await message.ack()
            headers.append(dict(message.headers or {}))
    assert sent == 3
    runs = {h[RESYNC_RUN] for h in headers}
    assert len(runs) == 1
    assert uuid.UUID(str(runs.pop())).version == 4
    assert [h.get(RESYNC_LAST) for h in headers] == [None, None, 3]
    assert await rebuild_queue.get(fail=False) is None  # nothing more was sent


async def test_relayed_messages_parse_with_the_cloudevents_sdk(
    api: httpx2.AsyncClient, token: dict[str, str], tap: EventTap, running_relay: RelayStarter
) -> None:
    """The CloudEvents SDK's RabbitMQ binding reads our messages with type, subject and extension."""
    article = await create_draft(api, token["editor"])

    async with running_relay():
        [message] = await tap.take(1)

    wire = rabbitmq.RabbitMQMessage(
        headers={k: str(v) for k, v in (message.headers or {}).items()},
        content_type=message.content_type,
        body=message.body,
    )
    event = rabbitmq.from_structured(wire, JSONFormat())
    assert event.get_type() == "cms.article.created"
    assert event.get_subject() == article["id"]
    assert event.get_extension("articleversion") == 1
    assert body(message)["data"]["id"] == article["id"]


async def test_cms_events_replay_command_reports_what_it_sent(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    event_settings: SystemSettings,
    rebuild_queue: AbstractQueue,
) -> None:
    """`cms events replay --to QUEUE` exits 0, says how many events it sent, and they arrive."""
    await create_draft(api, token["editor"])
    env = {"CMS_DATABASE_URL": event_settings.database_url, "CMS_AMQP_URL": AMQP_URL, "PATH": ""}
    cms = str(Path(sys.executable).parent / "cms")

    process = await asyncio.create_subprocess_exec(
        cms,
        "events",
        "replay",
        "--to",
        rebuild_queue.name,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()

    assert process.returncode == 0, err.decode()
    assert "1 event(s) replayed" in err.decode()
    assert len(await _drain(rebuild_queue, 1)) == 1


async def test_replay_leaves_parked_events_out_and_says_how_many(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    event_settings: SystemSettings,
    rebuild_queue: AbstractQueue,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A parked event would be refused again: the replay sends the rest and names what it left out."""
    for n in range(3):
        await create_draft(api, token["editor"], title=f"Meldung {n}")
    await db.execute(
        "UPDATE outbox SET correlation_id = repeat('x', 300), parked_at = now(), parked_reason = 'too long' "
        "WHERE sequence = 2"
    )
    env = {"CMS_DATABASE_URL": event_settings.database_url, "CMS_AMQP_URL": AMQP_URL, "PATH": ""}
    cms = str(Path(sys.executable).parent / "cms")

    process = await asyncio.create_subprocess_exec(
        cms, "events", "replay", "--to", rebuild_queue.name, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await process.communicate()

    assert process.returncode == 0, err.decode()
    assert "2 event(s) replayed" in err.decode()
    assert "1 parked event(s) left out" in err.decode()
    assert [b["sequence"] for b in await _drain(rebuild_queue, 2)] == ["1", "3"]
    assert await rebuild_queue.get(fail=False) is None
