"""Search finds its candidates through RUM where the store has it, through GIN where it has not,
and both give the newest matches, ranked, while reading only about as many rows as it ranks."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import asyncpg
import httpx2

from cms.system import SystemSettings
from consumers.search import SPEC as SEARCH
from consumers.search import store
from consumers.search.query import plan as search_plan
from tests.helpers import create_draft, eventually, publish
from tests.integration.consumers.helpers import running_consumer, without_rum
from tests.integration.events.helpers import RelayStarter

WORDS = ["Regierung", "Prozent", "Wahl", "Kanzler", "government", "people", "police", "week", "x", "y"]

# Article i (1 = newest) was published i minutes ago; every one holds every word of WORDS.
_FILL = """
INSERT INTO search.documents (article_id, language, slug, title, section, tags, published_at,
                              version, config, snippet_text, tsv)
SELECT gen_random_uuid(), t.language, 'meldung-' || i, 'Meldung ' || i, 'world', '{}',
       now() - i * interval '1 minute', 1, t.config, t.body, to_tsvector(t.config, t.body)
FROM generate_series(1, $1) AS i,
     LATERAL (SELECT CASE WHEN i % 2 = 0 THEN 'de' ELSE 'en' END AS language,
                     (CASE WHEN i % 2 = 0 THEN 'german' ELSE 'english' END)::regconfig AS config,
                     (SELECT string_agg(($2::text[])[1 + (i * 7 + j * 13) % cardinality($2::text[])], ' ')
                      FROM generate_series(1, 200) AS j) AS body) AS t
"""


async def _fill(db: asyncpg.Connection[asyncpg.Record], count: int) -> None:
    await db.execute(_FILL, count, WORDS)
    await db.execute("ANALYZE search.documents")


async def _slugs(
    db: asyncpg.Connection[asyncpg.Record],
    q: str,
    *,
    rum: bool,
    windows: tuple[timedelta, ...],
    limit: int = 20,
) -> list[str]:
    plan = search_plan(await store.forms(db, q, None))
    assert plan is not None
    hits = await store.search(
        db,
        plan,
        language=None,
        section=None,
        tag=None,
        candidates=100,
        limit=limit,
        offset=0,
        rum=rum,
        windows=windows,
    )
    return [hit.slug for hit in hits]


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


async def test_the_store_has_the_rum_index_and_every_path_gives_the_same_newest_candidates(
    search_app: httpx2.AsyncClient, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Where RUM is installed the migration makes its index; RUM, GIN within recent windows and
    GIN over the whole archive give the same hits: the best of the newest 100 of 3,000 matches."""
    await _fill(db, 3000)

    assert await store.has_rum_index(db)
    by_rum = await _slugs(db, "Regierung or government", rum=True, windows=(), limit=100)
    archive = await _slugs(db, "Regierung or government", rum=False, windows=(), limit=100)
    # 10 minutes hold 10 matches, an hour 60: both too few, so the search widens to the archive.
    widened = await _slugs(
        db,
        "Regierung or government",
        rum=False,
        windows=(timedelta(minutes=10), timedelta(hours=1)),
        limit=100,
    )
    # A day holds all 3,000: the newest 100 are in it.
    recent = await _slugs(db, "Regierung or government", rum=False, windows=(timedelta(days=1),), limit=100)

    assert by_rum == archive == widened == recent
    assert {int(slug.removeprefix("meldung-")) for slug in archive} == set(range(1, 101))
    assert await _slugs(db, "Regierung -Regierung", rum=True, windows=()) == []


async def test_through_rum_a_search_reads_as_many_rows_as_it_ranks_however_many_match(
    search_app: httpx2.AsyncClient, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Shown by the plan: the RUM index returns the newest matches in order, so the index scan
    stops at the 100th of 3,000 matches, in every plan of the prepared statement."""
    await _fill(db, 3000)
    plan = search_plan(await store.forms(db, " or ".join(WORDS[:8]), None))
    assert plan is not None
    arguments = [
        plan.match,
        plan.narrow,
        plan.exact,
        plan.configs,
        plan.queries,
        None,
        None,
        None,
        100,
        20,
        0,
    ]

    for _ in range(7):  # past the five custom plans of a prepared statement, into the generic one
        [explained] = json.loads(
            await db.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + store.SEARCH_RUM, *arguments)
        )
        nodes = _nodes(explained["Plan"])
        [scan] = [node for node in nodes if node.get("Relation Name") == "documents"]
        assert scan["Node Type"] == "Index Scan"
        assert scan["Index Name"] == "documents_rum"
        assert scan["Actual Rows"] == 100
        assert explained["Plan"]["Actual Rows"] == 20


async def test_through_gin_a_window_that_holds_enough_matches_reads_only_its_rows(
    search_app: httpx2.AsyncClient, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Without RUM, a search within the last 4 hours (240 of 3,000 matches) reads the rows of
    those 240 only, and its candidates are the newest 100."""
    await _fill(db, 3000)
    plan = search_plan(await store.forms(db, "Regierung or government", None))
    assert plan is not None
    arguments = [
        plan.match,
        plan.narrow,
        plan.exact,
        plan.configs,
        plan.queries,
        None,
        None,
        None,
        100,
        20,
        0,
    ]

    [explained] = json.loads(
        await db.fetchval(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + store.SEARCH_RECENT, *arguments, timedelta(hours=4)
        )
    )
    nodes = _nodes(explained["Plan"])
    [scan] = [node for node in nodes if node.get("Relation Name") == "documents"]
    assert scan["Node Type"] == "Bitmap Heap Scan"
    assert scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0) <= 241
    [candidates] = [node for node in nodes if node.get("Subplan Name") == "CTE candidates"]
    assert candidates["Actual Rows"] == 100


async def test_without_rum_the_migration_leaves_it_out_and_search_goes_through_gin(
    database_url: str,
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
    api: httpx2.AsyncClient,
    token: dict[str, str],
    running_relay: RelayStarter,
) -> None:
    """A store without RUM (as on a managed PostgreSQL that lacks it) is migrated all the same,
    and search works through GIN: a published article is found, a draft never, and hostile
    queries answer within a second with hits or a 422."""
    await without_rum(database_url)
    await create_draft(api, token["editor"], title="Geheimer Entwurf Zeppelin")
    await publish(
        api, token["editor"], await create_draft(api, token["editor"], title="Marker Ballon Zeppelin")
    )

    async with running_consumer(SEARCH, consumer_settings) as search, running_relay():
        await eventually(lambda: _found(search, "Ballon"))
        await _fill(db, 3000)
        found = await search.get("/v1/search", params={"q": "Zeppelin"})
        common = await search.get("/v1/search", params={"q": " or ".join(WORDS[:8]), "limit": "50"})
        hostile = []
        for q in [" or ".join(WORDS), '"' + " ".join(WORDS) + '"', "-Regierung -Wahl", "x" * 256]:
            started = time.perf_counter()
            response = await search.get("/v1/search", params={"q": q})
            hostile.append((q, response.status_code, time.perf_counter() - started))

    assert not await store.has_rum_index(db)
    assert await db.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'rum'") == 0
    assert await db.fetchval("SELECT to_regclass('search.documents_published_at') IS NOT NULL")
    assert [hit["title"] for hit in found.json()["items"]] == ["Marker Ballon Zeppelin"]
    assert [hit["slug"] for hit in common.json()["items"]][:1] != []
    assert len(common.json()["items"]) == 50
    for q, status, took in hostile:
        assert status in (200, 422), q
        assert took < 1.0, (q, took)


async def _found(search: httpx2.AsyncClient, q: str) -> bool:
    response = await search.get("/v1/search", params={"q": q})
    return response.status_code == 200 and bool(response.json()["items"])
