"""Parking: a row the encoder or the broker refuses for what it is never holds up the rows
behind it; it is kept, counted, listed by `cms events parked` and sent again after a fix."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
from prometheus_client import CollectorRegistry

from cms.articles import service
from cms.articles.model import ArticleCreate
from cms.platform import db as cms_db
from cms.platform.auth import Actor
from cms.platform.tokens import Role
from cms.system import SystemSettings
from tests.helpers import create_draft, eventually, patch
from tests.integration.events.helpers import EventTap, RelayStarter, body
from tests.services import AMQP_URL

TOO_LONG = "x" * 300  # an AMQP shortstr holds at most 255 bytes


async def _cms(settings: SystemSettings, *args: str) -> tuple[int, str, str]:
    """`cms ARGS` as an operator runs it, against the test's database."""
    env = {"CMS_DATABASE_URL": settings.database_url, "CMS_AMQP_URL": AMQP_URL, "CMS_LOG_LEVEL": "warning"}
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "cms"),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def _edits(api: httpx2.AsyncClient, token: str, article: dict[str, Any], count: int) -> dict[str, Any]:
    for n in range(count):
        response = await patch(api, token, article, lead=f"Fassung {n}")
        assert response.status_code == 200
        article = response.json()
    return article


async def test_an_unencodable_row_is_parked_and_the_events_behind_it_arrive_in_order_within_seconds(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    event_settings: SystemSettings,
    tap: EventTap,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """One row whose correlation_id no AMQP encoder can write stops nothing: the rest flow, in order."""
    bad = await create_draft(api, token["editor"], title="Vergiftet")
    bad_sequence = await db.fetchval("SELECT sequence FROM outbox WHERE article_id = $1", bad["id"])
    await db.execute("UPDATE outbox SET correlation_id = $1 WHERE sequence = $2", TOO_LONG, bad_sequence)
    article = await _edits(api, token["editor"], await create_draft(api, token["editor"]), 3)
    registry = CollectorRegistry()

    async with running_relay(registry=registry):
        first = await tap.take(4, within=5)
        await _edits(api, token["editor"], article, 3)  # written while the relay runs
        second = await tap.take(3, within=5)
        assert await tap.quiet() == []
        await eventually(lambda: _parked_gauge_is(registry, 1.0), within=5)

    versions = [(body(m)["subject"], body(m)["articleversion"]) for m in first + second]
    assert versions == [(article["id"], version) for version in range(1, 8)]
    assert bad["id"] not in {body(m)["subject"] for m in first + second}
    row = await db.fetchrow(
        "SELECT sent_at, parked_at, parked_reason FROM outbox WHERE sequence = $1", bad_sequence
    )
    assert row is not None
    assert row["sent_at"] is None
    assert row["parked_at"] is not None
    assert "255 bytes" in row["parked_reason"]
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1  # the parked one
    assert _sample(registry, "cms_relay_parked_total") == 1
    assert _sample(registry, "cms_relay_failures_total", kind="parked") == 1
    assert _sample(registry, "cms_relay_failures_total", kind="broker") == 0
    assert _sample(registry, "cms_relay_failures_total", kind="unexpected") == 0
    assert _sample(registry, "cms_relay_backlog") == 0


async def _parked_gauge_is(registry: CollectorRegistry, value: float) -> bool:
    return _sample(registry, "cms_relay_parked_rows") == value


async def test_a_parked_row_is_listed_and_after_a_fix_and_unpark_it_is_published(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    event_settings: SystemSettings,
    tap: EventTap,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """`cms events parked` shows what waits and why; `cms events unpark` sends it once fixed."""
    bad = await create_draft(api, token["editor"], title="Vergiftet")
    row = await db.fetchrow("SELECT sequence, event_id FROM outbox WHERE article_id = $1", bad["id"])
    assert row is not None
    sequence, event_id = row["sequence"], row["event_id"]
    await db.execute("UPDATE outbox SET correlation_id = $1 WHERE sequence = $2", TOO_LONG, sequence)
    good = await create_draft(api, token["editor"], title="Gesund")

    async with running_relay():
        [message] = await tap.take(1, within=5)
        assert body(message)["subject"] == good["id"]
        await eventually(lambda: _is_parked(db, sequence), within=5)

        code, listed, _ = await _cms(event_settings, "events", "parked")
        assert code == 0
        [line] = listed.splitlines()
        fields = line.split("\t")
        assert fields[:4] == [str(sequence), str(event_id), "cms.article.created", bad["id"]]
        assert "255 bytes" in fields[5]

        await db.execute("UPDATE outbox SET correlation_id = 'fixed-by-ops' WHERE sequence = $1", sequence)
        code, _, said = await _cms(event_settings, "events", "unpark", str(sequence))
        assert code == 0, said
        [resent] = await tap.take(1, within=5)
        assert await tap.quiet() == []

    assert resent.message_id == str(event_id)
    assert resent.correlation_id == "fixed-by-ops"
    assert body(resent)["subject"] == bad["id"]
    after = await db.fetchrow(
        "SELECT sent_at, parked_at, parked_reason FROM outbox WHERE sequence = $1", sequence
    )
    assert after is not None
    assert after["sent_at"] is not None
    assert (after["parked_at"], after["parked_reason"]) == (None, None)
    code, listed, _ = await _cms(event_settings, "events", "parked")
    assert (code, listed) == (0, "")


async def _is_parked(db: asyncpg.Connection[asyncpg.Record], sequence: int) -> bool:
    parked: bool = await db.fetchval("SELECT parked_at IS NOT NULL FROM outbox WHERE sequence = $1", sequence)
    return parked


async def test_unpark_of_a_row_that_is_not_parked_says_so_and_changes_nothing(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    event_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """An operator's typo is reported with a failing exit code, not silently accepted."""
    await create_draft(api, token["editor"])
    sequence = await db.fetchval("SELECT sequence FROM outbox")

    code, _, said = await _cms(event_settings, "events", "unpark", str(sequence), "999999")

    assert code == 1
    assert f"not parked: {sequence} 999999" in said
    assert (
        await db.fetchval("SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL OR sent_at IS NOT NULL")
        == 0
    )


async def test_an_event_over_the_brokers_message_size_is_parked_and_the_rest_flow(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    tap: EventTap,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A body the broker would refuse is parked before it is sent, with the size in the reason."""
    before = await create_draft(api, token["editor"], title="Davor")
    large = await create_draft(
        api, token["editor"], title="Zu groß", body=[{"type": "paragraph", "text": "Wort " * 10_000}]
    )
    after = await create_draft(api, token["editor"], title="Danach")

    async with running_relay(relay_max_message_bytes=20_000):
        messages = await tap.take(2, within=5)
        assert await tap.quiet() == []

    assert [body(m)["subject"] for m in messages] == [before["id"], after["id"]]
    reason = await db.fetchval("SELECT parked_reason FROM outbox WHERE article_id = $1", large["id"])
    assert "over the broker's max message size of 20000" in reason


async def test_an_unroutable_event_is_not_parked(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """No queue bound is the broker's state, not the row's fault: the row waits, unparked."""
    await create_draft(api, token["editor"])
    registry = CollectorRegistry()

    async with running_relay(registry=registry):
        await eventually(lambda: _broker_failures(registry), within=5)

    assert await db.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL") == 1
    assert _sample(registry, "cms_relay_parked_total") == 0
    assert _sample(registry, "cms_relay_failures_total", kind="parked") == 0


async def _broker_failures(registry: CollectorRegistry) -> bool:
    return _sample(registry, "cms_relay_failures_total", kind="broker") >= 1


async def test_the_outbox_does_not_store_a_correlation_id_the_encoder_would_refuse(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Defence in depth: a caller other than the API passing an unsafe id still writes a sendable event."""
    conn = await cms_db.connect(settings)
    ctx = service.Context(
        actor=Actor("eddie", Role.editor), now=datetime.now(UTC), correlation_id="\xe9" * 128
    )
    try:
        created = await service.create(conn, ArticleCreate(title="Stabschefs", language="de"), ctx)
    finally:
        await conn.close()

    row = await db.fetchrow("SELECT correlation_id, payload FROM outbox WHERE article_id = $1", created.id)
    assert row is not None
    assert row["correlation_id"] is None
    assert row["payload"]["subject"] == str(created.id)
