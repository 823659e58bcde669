"""The search consumer end to end: publish through the API, find it through /v1/search."""

from __future__ import annotations

import random
import string

import aio_pika
import asyncpg
import httpx2

from cms.system import SystemSettings
from consumers.runtime.topology import dlq_name
from consumers.search import SPEC as SEARCH
from tests.helpers import action, bearer, create_draft, eventually, fixture, patch, publish
from tests.integration.events.helpers import RelayStarter
from tests.services import AMQP_URL


async def _hits(search: httpx2.AsyncClient, q: str, **params: str) -> list[dict[str, object]]:
    response = await search.get("/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def _titles(search: httpx2.AsyncClient, q: str, **params: str) -> list[object]:
    return [hit["title"] for hit in await _hits(search, q, **params)]


async def test_a_published_article_becomes_searchable_with_a_highlighted_snippet(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
) -> None:
    """A published article is found with its slug, section, language and a highlighted snippet."""
    article = await publish(
        api,
        token["editor"],
        await create_draft(api, token["editor"], **fixture("article-stabschefs.de.json")),
    )

    async with running_relay():
        await eventually(lambda: _found(search_app, "Pentagon"))

    [hit] = await _hits(search_app, "Pentagon")
    assert hit["id"] == article["id"]
    assert hit["slug"] == article["slug"]
    assert hit["section"] == "world"
    assert hit["language"] == "de"
    assert "<mark>Pentagon</mark>" in str(hit["snippet"])


async def _found(search: httpx2.AsyncClient, q: str) -> bool:
    return bool(await _hits(search, q))


async def test_german_words_are_found_through_their_inflected_forms(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
) -> None:
    """German stemming finds the article by forms its text lacks (Luxusgüter, Sanktion, Russlands)."""
    await publish(
        api,
        token["editor"],
        await create_draft(api, token["editor"], **fixture("article-luxusgueter.de.json")),
    )

    async with running_relay():
        await eventually(lambda: _found(search_app, "Sanktionspaket"))

    # The text says "Luxusgütern" and "Sanktionen"; readers type other forms.
    assert await _titles(search_app, "Luxusgüter", language="de") == [
        "EU verbietet Export von Luxusgütern nach Russland"
    ]
    assert await _titles(search_app, "Sanktion") != []
    assert await _titles(search_app, "Russlands") != []


async def test_drafts_and_scheduled_articles_are_never_indexed(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
) -> None:
    """Neither a draft nor a scheduled article can be found, while a published one beside them is."""
    await create_draft(api, token["editor"], title="Geheimer Entwurf Zeppelin")
    scheduled = await create_draft(api, token["editor"], title="Embargo Zeppelin")
    await action(api, token["editor"], scheduled, "publish", {"publish_at": "2099-01-01T00:00:00Z"})
    marker = await publish(
        api, token["editor"], await create_draft(api, token["editor"], title="Marker Ballon")
    )

    async with running_relay():
        await eventually(lambda: _found(search_app, "Ballon"))

    assert marker["status"] == "published"
    assert await _titles(search_app, "Zeppelin") == []


async def test_unpublish_and_delete_remove_from_the_index(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Unpublished and deleted articles leave the index, their versions kept so no late event revives them."""
    one = await publish(api, token["editor"], await create_draft(api, token["editor"], title="Eins Walross"))
    two = await publish(api, token["editor"], await create_draft(api, token["editor"], title="Zwei Walross"))

    async with running_relay():
        await eventually(lambda: _count(search_app, "Walross", 2))
        await action(api, token["editor"], one, "unpublish")
        await api.delete(
            f"/v1/admin/articles/{two['id']}",
            headers={**bearer(token["editor"]), "If-Match": f'"{two["version"]}"'},
        )
        await eventually(lambda: _count(search_app, "Walross", 0))

    assert await _titles(search_app, "Walross") == []
    assert await db.fetchval("SELECT count(*) FROM search.documents") == 0
    # Still recorded as applied: a late redelivery of the published version cannot bring it back.
    assert await db.fetchval("SELECT count(*) FROM search.applied_versions") == 2


async def _count(search: httpx2.AsyncClient, q: str, expected: int) -> bool:
    return len(await _hits(search, q)) == expected


async def test_an_update_of_a_published_article_reindexes_it(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
) -> None:
    """Editing a live article's title reindexes it: the new word finds it, the old one does not."""
    article = await publish(
        api, token["editor"], await create_draft(api, token["editor"], title="Alter Titel Uhu")
    )

    async with running_relay():
        await eventually(lambda: _found(search_app, "Uhu"))
        await api.patch(
            f"/v1/admin/articles/{article['id']}",
            json={"title": "Neuer Titel Kauz"},
            headers={**bearer(token["editor"]), "If-Match": f'"{article["version"]}"'},
        )
        await eventually(lambda: _found(search_app, "Kauz"))

    assert await _titles(search_app, "Uhu") == []


async def test_web_search_syntax_phrases_exclusion_and_or(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
) -> None:
    """Quoted phrases, -exclusions and `or` work as readers know them from web search."""
    for title in ("Rote Zora fährt Rad", "Zora rot gefärbt", "Blaue Zora"):
        await publish(
            api, token["editor"], await create_draft(api, token["editor"], title=title, language="de")
        )

    async with running_relay():
        await eventually(lambda: _count(search_app, "Zora", 3))

    assert await _titles(search_app, '"Rote Zora"', language="de") == ["Rote Zora fährt Rad"]
    assert sorted(map(str, await _titles(search_app, "Zora -blau", language="de"))) == [
        "Rote Zora fährt Rad",
        "Zora rot gefärbt",
    ]
    assert len(await _titles(search_app, "Rad or blau", language="de")) == 2


async def test_bad_query_syntax_and_bad_parameters_are_never_a_500(search_app: httpx2.AsyncClient) -> None:
    """Broken query syntax is searched as text (200); missing q, a bad cursor or limit are 422, never 500."""
    for q in ['"unclosed', "&&||!!", "-", "or or or", "(((", "a:*", "\\", "'"]:
        response = await search_app.get("/v1/search", params={"q": q})
        assert response.status_code == 200, (q, response.text)
    assert (await search_app.get("/v1/search")).status_code == 422
    assert (await search_app.get("/v1/search", params={"q": "x", "cursor": "@@"})).status_code == 422
    assert (await search_app.get("/v1/search", params={"q": "x", "limit": "0"})).status_code == 422


async def test_search_filters_by_section_and_tag_and_pages(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Search filters by section and tag and pages through every hit once with next_cursor."""
    for n in range(5):
        await publish(
            api,
            token["editor"],
            await create_draft(
                api,
                token["editor"],
                title=f"Meldung Kormoran {n}",
                section="world" if n % 2 else "sport",
                tags=["natur"] if n < 2 else [],
            ),
        )

    async with running_relay():
        await eventually(lambda: _count(search_app, "Kormoran", 5))

    assert len(await _hits(search_app, "Kormoran", section="sport")) == 3
    assert len(await _hits(search_app, "Kormoran", tag="natur")) == 2
    first = await search_app.get("/v1/search", params={"q": "Kormoran", "limit": "3"})
    second = await search_app.get(
        "/v1/search", params={"q": "Kormoran", "limit": "3", "cursor": first.json()["next_cursor"]}
    )
    ids = [h["id"] for h in first.json()["items"] + second.json()["items"]]
    assert len(ids) == len(set(ids)) == 5
    assert second.json()["next_cursor"] is None


def _words_beyond_a_tsvector(seed: int, total_bytes: int) -> list[str]:
    """Paragraphs of distinct made-up words: their tsvector is larger than PostgreSQL's 1 MB."""
    rng = random.Random(seed)  # noqa: S311 (made-up words, not secrets)
    paragraphs, size = [], 0
    while size < total_bytes:
        text = " ".join(
            "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 10))) for _ in range(250)
        )
        paragraphs.append(text)
        size += len(text) + 1
    return paragraphs


async def _dlq_depth(settings: SystemSettings) -> int:
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(dlq_name(SEARCH.queue(settings)), passive=True)
        depth = queue.declaration_result.message_count
        assert depth is not None
        return depth
    finally:
        await connection.close()


async def test_an_edit_too_long_for_a_tsvector_replaces_the_old_text_and_says_it_was_cut(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
    consumer_settings: SystemSettings,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """An edit whose text exceeds a tsvector still replaces the old text in the index (what fits
    of it, flagged `truncated`): the removed words stop finding it, and nothing is dead-lettered."""
    article = await publish(
        api,
        token["editor"],
        await create_draft(
            api,
            token["editor"],
            title="Haushaltsdebatte",
            body=[{"type": "paragraph", "text": "Quastenflosser"}],
        ),
    )
    paragraphs = _words_beyond_a_tsvector(seed=11, total_bytes=1_900_000)
    paragraphs[0] = "Anfangswort Zitronenfalter " + paragraphs[0]
    body = [{"type": "paragraph", "text": text} for text in paragraphs]

    async with running_relay():
        await eventually(lambda: _found(search_app, "Quastenflosser"))
        response = await patch(api, token["editor"], article, body=body)
        assert response.status_code == 200, response.text[:300]
        await eventually(lambda: _found(search_app, "Zitronenfalter"), within=60)

    assert await _titles(search_app, "Quastenflosser") == []
    assert await _titles(search_app, "Anfangswort") == ["Haushaltsdebatte"]
    indexed = await db.fetchrow(
        "SELECT version, truncated FROM search.documents WHERE article_id = $1", article["id"]
    )
    assert indexed is not None
    assert (indexed["version"], indexed["truncated"]) == (response.json()["version"], True)
    assert await _dlq_depth(consumer_settings) == 0
    assert (
        'cms_consumer_dead_lettered_total{consumer="search"}' not in (await search_app.get("/metrics")).text
    )
