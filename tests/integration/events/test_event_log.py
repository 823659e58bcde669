"""The event log: pulled over HTTP in order, never skipping a late commit, pruned after retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx2

from cms.articles import service
from cms.articles.model import ArticleCreate
from cms.events.contract import ArticleEvent
from cms.events.retention import Pruner
from cms.platform import db as cms_db
from cms.platform.auth import Actor
from cms.platform.tokens import Role
from cms.system import SystemSettings
from tests.helpers import bearer, create_draft, eventually, patch


async def test_event_log_pages_oldest_first_with_the_last_sequence_as_cursor(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """The event log pages oldest first through `after`, ends without a cursor, and holds valid events."""
    article = await create_draft(api, token["editor"])
    for n in range(4):
        article = (await patch(api, token["editor"], article, lead=str(n))).json()
    # Rows show once every transaction older than theirs has ended, cluster-wide: a moment.
    await eventually(lambda: _visible(api, token, 5))

    first = await api.get("/v1/admin/events?limit=3", headers=bearer(token["editor"]))
    rest = await api.get(
        f"/v1/admin/events?limit=3&after={first.json()['next_cursor']}", headers=bearer(token["editor"])
    )

    versions = [e["articleversion"] for e in first.json()["items"] + rest.json()["items"]]
    assert versions == [1, 2, 3, 4, 5]
    assert rest.json()["next_cursor"] is None
    for event in first.json()["items"]:
        ArticleEvent.model_validate(event)


async def _visible(api: httpx2.AsyncClient, token: dict[str, str], count: int) -> bool:
    response = await api.get("/v1/admin/events", headers=bearer(token["editor"]))
    return len(response.json()["items"]) == count


async def test_event_log_is_for_editors(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """An author asking for the event log gets a 403."""
    response = await api.get("/v1/admin/events", headers=bearer(token["author"]))

    assert response.status_code == 403


async def test_event_log_holds_back_rows_behind_an_open_transaction_so_a_puller_never_skips_one(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """A committed row waits behind an older open transaction, so a puller's cursor never skips it."""
    slow = await cms_db.connect(settings)
    ctx = service.Context(actor=Actor("eddie", Role.editor), now=datetime.now(UTC), correlation_id="slow")
    try:
        tx = slow.transaction()
        await tx.start()
        await service.create(slow, ArticleCreate(title="Spät", language="de"), ctx)
        await create_draft(api, token["editor"], title="Früh")  # committed, higher sequence

        while_open = await api.get("/v1/admin/events", headers=bearer(token["editor"]))
        await tx.commit()
        await eventually(lambda: _visible(api, token, 2))
        after_commit = await api.get("/v1/admin/events", headers=bearer(token["editor"]))
    finally:
        await slow.close()

    assert while_open.json()["items"] == []
    assert [e["data"]["title"] for e in after_commit.json()["items"]] == ["Spät", "Früh"]


async def test_sent_events_older_than_retention_are_pruned_and_the_rest_kept(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Pruning deletes sent events past retention and keeps an old one that was never sent."""
    for n in range(3):
        await create_draft(api, token["editor"], title=f"Meldung {n}")
    await db.execute(
        "UPDATE outbox SET sent_at = now(), created_at = now() - interval '31 days' WHERE sequence <= 2"
    )
    await db.execute("UPDATE outbox SET created_at = now() - interval '40 days' WHERE sequence = 3")

    async with cms_db.create_pool(settings) as pool:
        deleted = await Pruner(pool, timedelta(days=30)).prune_once()

    remaining = await db.fetch("SELECT sequence, sent_at FROM outbox ORDER BY sequence")
    assert deleted == 2
    # Old but never sent: it must still reach the broker, so it stays.
    assert [(r["sequence"], r["sent_at"]) for r in remaining] == [(3, None)]
