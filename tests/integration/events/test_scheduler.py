"""Embargo and expiry fire once, at their time, even with two relay processes' schedulers running."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx2

from cms.platform import db as cms_db
from cms.scheduler import Scheduler, run_due
from cms.system import SystemSettings
from tests.helpers import action, create_draft, event_types, publish
from tests.integration.events.helpers import EventTap, RelayStarter, body


async def test_a_scheduled_publish_fires_once_at_its_time_with_two_schedulers_running(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    tap: EventTap,
    running_relay: RelayStarter,
    settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """With two schedulers running, an embargoed article goes live once, at its time, with one event."""
    article = await create_draft(api, token["editor"], title="Unter Embargo", slug="embargo")
    due = datetime.now(UTC) + timedelta(seconds=2)
    scheduled = await action(api, token["editor"], article, "publish", {"publish_at": due.isoformat()})
    assert scheduled.json()["status"] == "scheduled"

    async with running_relay(), cms_db.create_pool(settings) as pool:
        stop = asyncio.Event()
        tasks = [asyncio.create_task(Scheduler(pool, 0.05).run(stop)) for _ in range(2)]
        before_due = await api.get("/v1/content/articles/embargo")
        messages = await tap.take(3, within=15)
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*tasks)
        assert await tap.quiet() == []

    assert before_due.status_code == 404
    assert [m.routing_key for m in messages] == ["article.created", "article.updated", "article.published"]
    assert datetime.fromisoformat(body(messages[2])["time"]) >= due
    assert await event_types(db, article["id"]) == [
        "cms.article.created",
        "cms.article.updated",
        "cms.article.published",
    ]
    assert messages[2].correlation_id is not None
    assert messages[2].correlation_id.startswith("scheduler-")
    assert (await api.get("/v1/content/articles/embargo")).status_code == 200


async def test_an_expiry_unpublishes_once_when_due(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """An expiry fires once when due: not a second before, and not again afterwards."""
    article = await publish(api, token["editor"], await create_draft(api, token["editor"], slug="kurzlebig"))
    until = datetime.now(UTC) + timedelta(seconds=30)
    await action(api, token["editor"], article, "unpublish", {"unpublish_at": until.isoformat()})

    async with cms_db.create_pool(settings) as pool:
        before = await run_due(pool, now=until - timedelta(seconds=1))
        fired = await run_due(pool, now=until + timedelta(seconds=1))
        again = await run_due(pool, now=until + timedelta(seconds=2))

    assert (before, fired, again) == (0, 1, 0)
    assert (await event_types(db, article["id"])).count("cms.article.unpublished") == 1


async def test_a_cancelled_schedule_leaves_no_expiry_to_take_a_later_publication_down(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Schedule, set an expiry, cancel, publish now: it stays live when the old expiry passes."""
    article = await create_draft(api, token["editor"], slug="verschoben")
    now = datetime.now(UTC)
    embargo, expiry = now + timedelta(seconds=3), now + timedelta(seconds=4)
    await action(api, token["editor"], article, "publish", {"publish_at": embargo.isoformat()})
    await action(api, token["editor"], article, "unpublish", {"unpublish_at": expiry.isoformat()})
    await action(api, token["editor"], article, "unpublish")

    live = await action(api, token["editor"], article, "publish")

    assert (live.status_code, live.json()["status"], live.json()["unpublish_at"]) == (200, "published", None)
    async with cms_db.create_pool(settings) as pool:
        fired = await run_due(pool, now=expiry + timedelta(seconds=10))
    assert fired == 0
    assert (await api.get("/v1/content/articles/verschoben")).status_code == 200
    assert "cms.article.unpublished" not in await event_types(db, article["id"])
