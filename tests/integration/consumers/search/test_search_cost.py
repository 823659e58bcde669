"""Public search has a bounded cost: whatever the query, it answers fast with hits or a clear 4xx."""

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
from tests.integration.consumers.helpers import running_consumer

COMMON = [
    "Regierung",
    "Prozent",
    "Jahr",
    "Millionen",
    "Euro",
    "Menschen",
    "Ukraine",
    "Russland",
    "Deutschland",
    "Berlin",
    "Kanzler",
    "Minister",
    "Partei",
    "Wahl",
    "Polizei",
    "Woche",
    "government",
    "people",
    "year",
    "percent",
    "million",
    "police",
    "week",
]
LETTERS = list("abcdefghijklmnopqrstuvwxyz")

# Every document holds most of these words (and single letters), half in German, half in
# English, the newest first by number: what makes a search that ranks every match slow.
_FILL = """
INSERT INTO search.documents (article_id, language, slug, title, section, tags, published_at,
                              version, config, snippet_text, tsv)
SELECT gen_random_uuid(), t.language, 'meldung-' || i, 'Meldung ' || i, 'world', '{}',
       now() - i * interval '1 minute', 1, t.config, t.body, to_tsvector(t.config, t.body)
FROM generate_series(1, $1) AS i,
     LATERAL (SELECT CASE WHEN i % 2 = 0 THEN 'de' ELSE 'en' END AS language,
                     (CASE WHEN i % 2 = 0 THEN 'german' ELSE 'english' END)::regconfig AS config,
                     (SELECT string_agg(($2::text[])[1 + (i * 7 + j * 13) % cardinality($2::text[])], ' ')
                      FROM generate_series(1, 300) AS j) AS body) AS t
"""


async def _fill(db: asyncpg.Connection[asyncpg.Record], count: int) -> None:
    await db.execute(_FILL, count, COMMON + LETTERS)
    await db.execute("ANALYZE search.documents")


async def _timed_get(search: httpx2.AsyncClient, **params: str) -> tuple[httpx2.Response, float]:
    started = time.perf_counter()
    response = await search.get("/v1/search", params=params)
    return response, time.perf_counter() - started


async def test_hostile_queries_answer_quickly_with_hits_or_a_clear_4xx_never_a_500(
    search_app: httpx2.AsyncClient, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """OR chains, exclusions, phrases, punctuation and junk: each answers within a second, with
    hits or a 422 naming the limit it broke, never a 500 or a statement timeout."""
    await _fill(db, 3000)
    limited = {
        " or ".join(LETTERS): "at most 16 words",  # the report's 51 characters: 18.5 s on 30,000
        " or ".join(f"-{c}" for c in LETTERS * 10)[:500]: "at most 256 characters",
        "-Regierung or -Prozent": "needs a word to look for that is not excluded",
        "die -Regierung": "needs a word to look for that is not excluded",  # "die": a stop word
        " ".join(COMMON[:20]): "at most 16 words",
    }
    answered = [
        " or ".join(COMMON[:16]),
        " ".join(COMMON[:16]),
        " or ".join(f'"{a} {b}"' for a, b in zip(COMMON[:16:2], COMMON[1:16:2], strict=True)),
        '"' + " ".join(COMMON[:16]) + '"',
        "Regierung -Prozent or Jahr -Euro",
        "-".join(COMMON[:16]),
        "_".join(COMMON[:16]),
        "*:* a:* !(&|) <-> <2> '' \\ -- ; %00 ../../etc/passwd",
        # combining accent, zero-width space, Fraktur letters, a snowman, BOM, the last code
        # point, diacritics and a right-to-left override
        "\u0301\u200b\U0001d518\U0001d52b \u2603 \ufeff\U0010ffff \u00dcn\u00efc\u00f6d\u00e9\u202e Wahl",
    ]
    for language in (None, "de"):
        extra = {"language": language} if language else {}
        for q, reason in limited.items():
            response, took = await _timed_get(search_app, q=q, **extra)
            assert response.status_code == 422, (q, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert reason in response.text, (q, response.text)
            assert took < 1.0, (q, took)
        for q in answered:
            response, took = await _timed_get(search_app, q=q, **extra)
            assert response.status_code == 200, (q, response.text)
            assert took < 1.0, (q, took)
    response, _ = await _timed_get(search_app, q=" or ".join(COMMON[:16]))
    assert len(response.json()["items"]) == 20


async def test_a_search_ranks_only_the_newest_matches_up_to_its_candidate_limit(
    consumer_settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The work of a search is bounded by a setting: of 3,000 matches only the newest 100 are
    ranked and paged through, not all of them."""
    settings = consumer_settings.model_copy(update={"search_max_candidates": 100})
    async with running_consumer(SEARCH, settings) as search:
        await _fill(db, 3000)
        first = await search.get("/v1/search", params={"q": "Regierung or government", "limit": "60"})
        cursor = first.json()["next_cursor"]
        second = await search.get(
            "/v1/search", params={"q": "Regierung or government", "limit": "60", "cursor": cursor}
        )

    assert first.status_code == second.status_code == 200
    slugs = [hit["slug"] for page in (first, second) for hit in page.json()["items"]]
    assert len(slugs) == len(set(slugs)) == 100
    assert {int(slug.removeprefix("meldung-")) for slug in slugs} == set(range(1, 101))
    assert second.json()["next_cursor"] is None


async def test_a_search_without_a_language_uses_only_the_configurations_the_index_holds(
    search_app: httpx2.AsyncClient, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """A query is parsed once per configuration of the indexed articles (here German and
    English), not in all ~30 PostgreSQL knows; with a language, in that one alone."""
    await _fill(db, 10)

    everywhere = await store.forms(db, "Regierungen", None)
    german = await store.forms(db, "Regierungen", "german")

    assert [(form.config, form.query) for form in everywhere] == [
        ("english", "'regierungen'"),
        ("german", "'regier'"),
    ]
    assert [(form.config, form.query) for form in german] == [("german", "'regier'")]
    assert await db.fetchval("SELECT count(*) FROM pg_ts_config") > 20


async def test_a_search_over_its_time_limit_answers_503_with_retry_after(
    consumer_settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Public search holds the database at most `CMS_SEARCH_STATEMENT_TIMEOUT`: past it the
    answer is a 503 problem with Retry-After, not a 500, and the connection serves on."""
    settings = consumer_settings.model_copy(update={"search_statement_timeout": timedelta(milliseconds=1)})
    async with running_consumer(SEARCH, settings) as search:
        await _fill(db, 3000)
        responses = [await search.get("/v1/search", params={"q": " or ".join(COMMON[:16])}) for _ in range(3)]
        ready = await search.get("/readyz")

    for response in responses:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) > 0
        problem = response.json()
        assert problem["type"].endswith("/search-timeout")
        assert problem["status"] == 503
        assert "took too long" in problem["detail"]
    assert ready.status_code == 200


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


async def test_candidates_come_from_the_gin_index_even_when_every_article_matches(
    search_app_without_rum: httpx2.AsyncClient, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Shown by the plan, on a store without RUM: the index finds the matches (no table scan
    that reads every tsvector), and only the newest `candidates` of them are ranked, however many
    match."""
    await _fill(db, 3000)
    plan = search_plan(await store.forms(db, " or ".join(COMMON[:16]), None))
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
            await db.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + store.SEARCH, *arguments)
        )
        nodes = _nodes(explained["Plan"])
        scans = {node["Node Type"] for node in nodes if node.get("Relation Name") == "documents"}
        assert scans == {"Bitmap Heap Scan"}, scans
        [matched] = [node for node in nodes if node.get("Index Name") == "documents_tsv"]
        assert matched["Actual Rows"] == 3000
        [candidates] = [node for node in nodes if node.get("Subplan Name") == "CTE candidates"]
        assert candidates["Actual Rows"] == 100
