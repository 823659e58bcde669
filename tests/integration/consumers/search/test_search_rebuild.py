"""`cms-consumer search rebuild`: a new index built in bulk from a resync beside the live one,
swapped in with what changed meanwhile, while the live consumer goes on; stopped, it leaves
the live index as it was."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import aiormq
import asyncpg
import httpx2
import pytest

from cms.events import replay
from cms.system import SystemSettings
from consumers.search import SPEC as SEARCH
from consumers.search import rebuild, shadow
from consumers.search.compounds import Splitter
from tests.helpers import action, create_draft, eventually, patch, publish
from tests.integration.events.helpers import RelayStarter
from tests.services import AMQP_URL

_INDEXES = """
SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition, i.indisvalid AS valid
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY(ARRAY['search.documents', 'search.words', 'search.applied_versions']::regclass[])
ORDER BY c.relname"""


async def _titles(search: httpx2.AsyncClient, q: str) -> list[str]:
    response = await search.get("/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    return sorted(hit["title"] for hit in response.json()["items"])


@contextlib.asynccontextmanager
async def _rebuilding(
    settings: SystemSettings,
) -> AsyncIterator[tuple[asyncio.Task[rebuild.Outcome], list[str]]]:
    """A rebuild running in the background, once its queue is there; cancelled if still running."""
    said: list[str] = []
    task = asyncio.create_task(
        rebuild.rebuild(
            settings,
            SEARCH.dsn(settings),
            SEARCH.routing_keys,
            Splitter(settings.search_compound_dictionary),
            rebuild.Options(batch_size=2, readers=1, writers=2),
            said.append,
        )
    )
    try:
        await eventually(lambda: _said(said, "now run", task), within=30)
        yield task, said
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _said(said: list[str], words: str, task: asyncio.Task[Any]) -> bool:
    if task.done():
        task.result()  # raises what stopped it
    return any(words in line for line in said)


async def test_the_rebuild_swaps_in_a_new_index_with_the_changes_made_while_it_ran(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A rebuild fed by a resync restores what the live index lost, drops words no article
    holds, keeps an update and an unpublish made while it ran, keeps every index as it was,
    and the live consumer goes on indexing into the new tables."""
    editor = token["editor"]
    one = await publish(api, editor, await create_draft(api, editor, title="Hafenstreik in Hamburg"))
    two = await publish(api, editor, await create_draft(api, editor, title="Hochwasser an der Elbe"))
    three = await publish(api, editor, await create_draft(api, editor, title="Zollstreit mit Kanada"))
    await create_draft(api, editor, title="Entwurf über Wattwürmer")
    async with running_relay():
        await eventually(lambda: _has(search_app, "Zollstreit"))
        # A damaged index: an article lost, a word no article ever held.
        await db.execute("DELETE FROM search.documents WHERE article_id = $1", two["id"])
        await db.execute(
            "INSERT INTO search.words (word, config, spelling, variant_key, name_like) "
            "VALUES ('quxplonk', 'search.german', 'Quxplonk', 'quxplonk', true)"
        )
        indexes_before = [(r["name"], r["definition"]) for r in await db.fetch(_INDEXES)]
        assert await _titles(search_app, "Hochwasser") == []

        async with _rebuilding(consumer_settings) as (task, said):
            # Changes while it runs, before the resync reads them: both queues get them.
            updated = (await patch(api, editor, one, title="Hafenstreik in Hamburg beendet")).json()
            assert (await action(api, editor, three, "unpublish")).status_code == 200
            sent = await replay.resync(
                consumer_settings, f"{consumer_settings.amqp_prefix}.search.rebuild", progress=lambda n: None
            )
            # And one after: applied while the rebuild fills, or at the swap, never lost.
            late = (await patch(api, editor, two, title="Hochwasser an der Elbe sinkt")).json()
            outcome = await asyncio.wait_for(task, timeout=60)

        assert sent == 4  # three articles and the draft
        assert outcome.indexed >= 2
        assert outcome.failed == []
        assert any("answers searches" in line for line in said)
        docs = {
            str(r["article_id"]): r["version"]
            for r in await db.fetch("SELECT article_id, version FROM search.documents")
        }
        assert docs == {one["id"]: updated["version"], two["id"]: late["version"]}
        assert await _titles(search_app, "Hochwasser") == ["Hochwasser an der Elbe sinkt"]
        assert await _titles(search_app, "beendet") == ["Hafenstreik in Hamburg beendet"]
        assert await _titles(search_app, "Zollstreit") == []
        assert await _titles(search_app, "Wattwürmer") == []
        assert await db.fetchval("SELECT count(*) FROM search.words WHERE word = 'quxplonk'") == 0
        assert await db.fetchval("SELECT count(*) FROM search.words WHERE word = 'hochwasser'") == 1
        # Every index as it was, by name and definition, and valid; no copy left behind.
        indexes_after = await db.fetch(_INDEXES)
        assert [(r["name"], r["definition"]) for r in indexes_after] == indexes_before
        assert all(r["valid"] for r in indexes_after)
        assert (
            await db.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'search' AND tablename LIKE '%_next'"
            )
            == 0
        )

        # The live consumer indexes into the new tables.
        four = await publish(api, editor, await create_draft(api, editor, title="Wahlkampf in Bremen"))
        await eventually(lambda: _has(search_app, "Wahlkampf"))
        assert (
            await db.fetchval("SELECT version FROM search.applied_versions WHERE article_id = $1", four["id"])
            == four["version"]
        )


async def test_a_rebuild_stopped_before_the_swap_leaves_the_live_index_and_nothing_else(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A second rebuild is refused while one runs; cancelled half way, the rebuild drops its
    copies and its queue, and the live index answers as before."""
    editor = token["editor"]
    await publish(api, editor, await create_draft(api, editor, title="Hafenstreik in Hamburg"))
    async with running_relay():
        await eventually(lambda: _has(search_app, "Hafenstreik"))
    queue = f"{consumer_settings.amqp_prefix}.search.rebuild"

    async with _rebuilding(consumer_settings) as (task, _):
        assert await db.fetchval("SELECT to_regclass('search.documents_next') IS NOT NULL")
        # A second rebuild meanwhile is refused, and leaves the first one's copies alone.
        with pytest.raises(shadow.RebuildRunning):
            async with _rebuilding(consumer_settings):
                pass
        assert await db.fetchval("SELECT to_regclass('search.documents_next') IS NOT NULL")
        assert not task.done()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    assert (
        await db.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'search' AND tablename LIKE '%_next'"
        )
        == 0
    )
    assert await _titles(search_app, "Hafenstreik") == ["Hafenstreik in Hamburg"]
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        with pytest.raises(aiormq.exceptions.ChannelNotFoundEntity):
            await channel.declare_queue(queue, passive=True)
    finally:
        await connection.close()


async def _has(search: httpx2.AsyncClient, q: str) -> bool:
    return bool(await _titles(search, q))
