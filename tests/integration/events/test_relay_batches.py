"""The relay's memory follows bytes, not rows: a batch stops at CMS_RELAY_BATCH_BYTES."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from prometheus_client import CollectorRegistry

from cms.articles import service
from cms.articles.model import ArticleCreate
from cms.events import outbox
from cms.platform import db as cms_db
from cms.platform.auth import Actor
from cms.platform.tokens import Role
from cms.system import SystemSettings
from tests.integration.events.helpers import EventTap, RelayStarter, body

PARAGRAPH = 100_000  # characters of text per article: each event is a little over 100 kB


async def _write_large_drafts(settings: SystemSettings, count: int) -> None:
    conn = await cms_db.connect(settings)
    ctx = service.Context(actor=Actor("eddie", Role.editor), now=datetime.now(UTC), correlation_id="bulk")
    try:
        for n in range(count):
            text = f"{n} " + "x" * PARAGRAPH
            draft = ArticleCreate(
                title=f"Dossier {n}", language="de", body=[{"type": "paragraph", "text": text}]
            )
            await service.create(conn, draft, ctx)
    finally:
        await conn.close()


async def _sizes(db: asyncpg.Connection[asyncpg.Record]) -> list[int]:
    return [
        row["size"]
        for row in await db.fetch(
            "SELECT octet_length((payload || jsonb_build_object('sequence', sequence::text))::text) AS size "
            "FROM outbox ORDER BY sequence"
        )
    ]


async def test_a_read_takes_rows_up_to_the_byte_cap_and_at_least_one_row(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Rows stop at the cap; a single row larger than the cap still goes, alone."""
    await _write_large_drafts(settings, 5)
    row_size = max(await _sizes(db))
    conn = await cms_db.connect(settings)
    try:
        two = await outbox.unsent(conn, 500, max_bytes=2 * row_size + row_size // 2)
        one = await outbox.unsent(conn, 500, max_bytes=10)
        rest = await outbox.unsent(conn, 500, max_bytes=2 * row_size + row_size // 2, excluding=[1, 2])
        all_of_them = await outbox.unsent(conn, 500, max_bytes=None)
    finally:
        await conn.close()

    assert [row.sequence for row in two] == [1, 2]
    assert [row.sequence for row in one] == [1]
    assert [row.sequence for row in rest] == [3, 4]
    assert [row.sequence for row in all_of_them] == [1, 2, 3, 4, 5]


async def test_rows_written_before_sizes_were_stored_are_measured_on_read(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """An outbox migrated with unsent rows in it is capped by bytes all the same."""
    await _write_large_drafts(settings, 3)
    await db.execute("UPDATE outbox SET payload_bytes = NULL")
    row_size = max(await _sizes(db))
    conn = await cms_db.connect(settings)
    try:
        taken = await outbox.unsent(conn, 500, max_bytes=row_size + row_size // 2)
    finally:
        await conn.close()

    assert [row.sequence for row in taken] == [1]


async def test_large_events_are_published_in_batches_within_the_byte_cap_in_order(
    settings: SystemSettings,
    tap: EventTap,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Twelve events of 100 kB with a 250 kB cap: batches of at most two rows, all in order."""
    await _write_large_drafts(settings, 12)
    sizes = await _sizes(db)
    cap = 250_000
    assert all(cap // 3 < size <= cap // 2 for size in sizes)  # two fit, three do not
    registry = CollectorRegistry()

    async with running_relay(registry=registry, relay_batch_bytes=cap):
        messages = await tap.take(12)
        assert await tap.quiet() == []

    assert [int(body(m)["sequence"]) for m in messages] == list(range(1, 13))
    batches = registry.get_sample_value("cms_relay_batch_rows_count")
    assert batches is not None
    assert batches >= 6
    assert registry.get_sample_value("cms_relay_batch_rows_bucket", {"le": "2.0"}) == batches
    assert registry.get_sample_value("cms_relay_batch_rows_sum") == 12
    assert (registry.get_sample_value("cms_relay_batch_bytes_sum") or 0) <= batches * cap
