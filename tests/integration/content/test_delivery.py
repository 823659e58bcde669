"""The delivery API: what sites read. Only what is live now, newest first, cacheable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx2
import pytest

from cms.system import SystemSettings
from tests.helpers import action, bearer, create_draft, fixture, patch, publish
from tests.integration.content.feed_helpers import feeds_client

Record = asyncpg.Record

LIVE_FIELDS = {
    "id",
    "slug",
    "language",
    "title",
    "lead",
    "body",
    "corrections",
    "section",
    "tags",
    "authors",
    "related",
    "published_at",
    "first_published_at",
    "updated_at",
    "version",
}


async def published(api: httpx2.AsyncClient, token: dict[str, str], **fields: Any) -> dict[str, Any]:
    return await publish(api, token["editor"], await create_draft(api, token["author"], **fields))


async def bring_to(api: httpx2.AsyncClient, token: dict[str, str], status: str) -> dict[str, Any]:
    """A new article in `status`, where `deleted` means published and then deleted."""
    article = await create_draft(api, token["author"], title=f"Artikel im Zustand {status}")
    editor = token["editor"]
    if status == "in_review":
        await action(api, token["author"], article, "submit")
    elif status == "scheduled":
        soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        response = await action(api, editor, article, "publish", {"publish_at": soon})
        assert response.json()["status"] == "scheduled"
    elif status == "unpublished":
        live = await publish(api, editor, article)
        assert (await action(api, editor, live, "unpublish")).json()["status"] == "unpublished"
    elif status == "deleted":
        live = await publish(api, editor, article)
        deleted = await api.delete(
            f"/v1/admin/articles/{live['id']}", headers={**bearer(editor), "If-Match": f'"{live["version"]}"'}
        )
        assert deleted.status_code == 204
    return article


async def live_ids(api: httpx2.AsyncClient, **params: Any) -> list[str]:
    response = await api.get("/v1/content/articles", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def by_slug(api: httpx2.AsyncClient, article: dict[str, Any], **headers: str) -> httpx2.Response:
    return await api.get(
        f"/v1/content/articles/{article['slug']}", params={"language": article["language"]}, headers=headers
    )


# never on delivery


@pytest.mark.parametrize("status", ["draft", "in_review", "scheduled", "unpublished", "deleted"])
async def test_an_article_that_is_not_live_is_never_delivered(
    api: httpx2.AsyncClient, token: dict[str, str], status: str
) -> None:
    """Drafts, reviews, scheduled, unpublished and deleted articles are 404 by slug and absent from lists."""
    live = await published(api, token, title="Live")
    hidden = await bring_to(api, token, status)

    one = await by_slug(api, hidden)
    unqualified = await api.get(f"/v1/content/articles/{hidden['slug']}")

    assert one.status_code == unqualified.status_code == 404
    assert one.headers["content-type"] == "application/problem+json"
    assert await live_ids(api) == [live["id"]]


async def test_an_article_past_its_expiry_is_hidden_even_before_the_scheduler_ran(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """An article is hidden from the moment its expiry passes, not only once the scheduler acts."""
    article = await published(api, token)
    await db.execute(
        "UPDATE articles SET unpublish_at = now() - interval '1 second' WHERE id = $1", article["id"]
    )

    assert (await by_slug(api, article)).status_code == 404
    assert await live_ids(api) == []


async def test_an_unknown_slug_is_404(api: httpx2.AsyncClient) -> None:
    """A slug no article has is a 404 problem."""
    response = await api.get("/v1/content/articles/gibt-es-nicht")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


# the list


async def test_the_list_is_newest_first(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """The delivery list orders articles by publication, newest first."""
    first = await published(api, token, title="Erste")
    second = await published(api, token, title="Zweite")
    third = await published(api, token, title="Dritte")

    assert await live_ids(api) == [third["id"], second["id"], first["id"]]


async def test_republishing_moves_an_article_back_to_the_top(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """An article published again goes back to the top of the list."""
    old = await published(api, token, title="Alt")
    new = await published(api, token, title="Neu")
    down = (await action(api, token["editor"], old, "unpublish")).json()

    await publish(api, token["editor"], down)

    assert await live_ids(api) == [old["id"], new["id"]]


async def test_list_items_are_summaries_without_body(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """List items carry the summary fields only: no body, owner or workflow status."""
    article = await published(api, token, section="world", tags=["eu"], lead="Vorspann")

    response = await api.get("/v1/content/articles")

    [item] = response.json()["items"]
    assert item["id"] == article["id"]
    assert (item["slug"], item["language"], item["section"], item["tags"], item["lead"]) == (
        article["slug"],
        "de",
        "world",
        ["eu"],
        "Vorspann",
    )
    assert "body" not in item
    assert "owner" not in item
    assert "status" not in item
    assert response.json()["next_cursor"] is None


async def test_the_list_filters_by_section_tag_and_language(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Section, tag and language filter the list, alone and combined; an unused section lists nothing."""
    world = await published(api, token, title="Welt", section="world", tags=["eu", "russland"])
    sport = await published(api, token, title="Sport", section="sport", tags=["fussball"])
    english = await published(api, token, title="World", language="en", section="world", tags=["eu"])

    assert await live_ids(api, section="world") == [english["id"], world["id"]]
    assert await live_ids(api, section="sport") == [sport["id"]]
    assert await live_ids(api, tag="eu") == [english["id"], world["id"]]
    assert await live_ids(api, tag="russland") == [world["id"]]
    assert await live_ids(api, language="en") == [english["id"]]
    assert await live_ids(api, language="de", tag="eu") == [world["id"]]
    assert await live_ids(api, section="kultur") == []


async def test_cursor_paging_returns_every_article_exactly_once_in_order(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Following next_cursor pages through every live article once, in order, in pages of the limit."""
    articles = [await published(api, token, title=f"Meldung {n}") for n in range(7)]
    newest_first = [a["id"] for a in reversed(articles)]

    pages = await all_pages(api, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [item for page in pages for item in page] == newest_first


async def test_paging_is_exact_when_articles_share_a_publication_instant(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A batch published by the scheduler can share one timestamp: the id breaks the tie."""
    articles = [await published(api, token, title=f"Ticker {n}") for n in range(5)]
    await db.execute("UPDATE articles SET published_at = '2022-05-19T12:00:00Z'")

    pages = await all_pages(api, limit=2)

    seen = [item for page in pages for item in page]
    assert sorted(seen) == sorted(a["id"] for a in articles)
    assert len(seen) == len(set(seen))


async def test_a_page_that_ends_exactly_at_the_last_article_is_followed_by_an_empty_one(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """When a page ends on the last article, its cursor leads to an empty page with no further cursor."""
    for n in range(2):
        await published(api, token, title=f"Kurz {n}")

    first = await api.get("/v1/content/articles", params={"limit": 2})
    second = await api.get("/v1/content/articles", params={"limit": 2, "cursor": first.json()["next_cursor"]})

    assert len(first.json()["items"]) == 2
    assert second.json() == {"items": [], "next_cursor": None}


async def all_pages(api: httpx2.AsyncClient, *, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await api.get("/v1/content/articles", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["items"]:
            pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "paging does not end"


# one article: caching headers


async def test_one_article_has_etag_cache_control_and_content_language(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A delivered article carries a strong ETag, public Cache-Control and its Content-Language."""
    article = await published(api, token)

    response = await by_slug(api, article)

    assert response.status_code == 200
    assert response.headers["etag"].startswith('"')
    assert response.headers["etag"].endswith('"')
    assert response.headers["cache-control"].startswith("public, max-age=60")
    assert response.headers["content-language"] == "de"
    assert response.headers["content-type"] == "application/json"


async def test_a_matching_if_none_match_is_304_without_a_body(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """If-None-Match with the current ETag, weak or in a list, gets an empty 304 with ETag and caching."""
    article = await published(api, token)
    etag = (await by_slug(api, article)).headers["etag"]

    exact = await by_slug(api, article, **{"If-None-Match": etag})
    weak = await by_slug(api, article, **{"If-None-Match": f"W/{etag}"})
    among_others = await by_slug(api, article, **{"If-None-Match": f'"older", {etag}'})

    for response in (exact, weak, among_others):
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert "cache-control" in response.headers


async def test_a_stale_if_none_match_gets_the_new_article(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """After an edit the old ETag no longer matches: the site gets the corrected article and a new ETag."""
    article = await published(api, token)
    old_etag = (await by_slug(api, article)).headers["etag"]
    await patch(api, token["editor"], article, lead="korrigiert")

    response = await by_slug(api, article, **{"If-None-Match": old_etag})

    assert response.status_code == 200
    assert response.json()["lead"] == "korrigiert"
    assert response.headers["etag"] != old_etag


async def test_one_article_shows_only_what_sites_need(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """Delivery shows the public fields only, never owner, status, schedule or deletion stamp."""
    article = await published(api, token)

    delivered = (await by_slug(api, article)).json()

    assert set(delivered) == LIVE_FIELDS  # no owner, status, schedule or deletion stamp
    assert delivered["id"] == article["id"]
    assert delivered["version"] == article["version"]
    assert delivered["published_at"].endswith("Z")


async def test_the_language_parameter_picks_between_translations_with_one_slug(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """With one slug in two languages, ?language picks the edition; a third language is a 404."""
    german = await published(api, token, title="Stabschefs", slug="stabschefs")
    english = await published(api, token, title="Chiefs of staff", slug="stabschefs", language="en")

    de = await api.get("/v1/content/articles/stabschefs", params={"language": "de"})
    en = await api.get("/v1/content/articles/stabschefs", params={"language": "en"})
    fr = await api.get("/v1/content/articles/stabschefs", params={"language": "fr"})

    assert (de.json()["id"], de.headers["content-language"]) == (german["id"], "de")
    assert (en.json()["id"], en.headers["content-language"]) == (english["id"], "en")
    assert fr.status_code == 404


# the fixture articles, end to end


async def test_the_fixture_articles_come_out_of_delivery_intact(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """The real fixtures come back as sent, quotes and blocks intact, with related articles expanded."""
    luxus_in = fixture("article-luxusgueter.de.json")
    stabschefs_in = fixture("article-stabschefs.de.json")
    luxus = await create_via_api(api, token, luxus_in)
    stabschefs = await create_via_api(api, token, {**stabschefs_in, "related": [luxus["id"]]})
    await publish(api, token["editor"], luxus)
    await publish(api, token["editor"], stabschefs)

    out = (await by_slug(api, stabschefs)).json()

    for name in ("title", "lead", "language", "section", "tags", "body"):
        assert out[name] == stabschefs_in[name], name
    assert out["related"] == [
        {"id": luxus["id"], "slug": luxus["slug"], "language": "de", "title": luxus_in["title"]}
    ]
    assert "„mehrere Sicherheitsbedenken diskutiert“" in out["body"][1]["text"]
    assert out["body"][3] == {
        "type": "heading",
        "level": 2,
        "text": "Washington will „die Kommunikationswege aufrechterhalten“",
    }
    assert out["body"][6]["attribution"] == "Pentagon-Sprecher John Kirby über Lloyd Austin"
    luxus_out = (await by_slug(api, luxus)).json()
    assert luxus_out["title"] == "EU verbietet Export von Luxusgütern nach Russland"
    assert luxus_out["slug"] == "eu-verbietet-export-von-luxusguetern-nach-russland"
    assert luxus_out["body"] == luxus_in["body"]
    assert luxus_out["related"] == []


async def test_the_raw_bytes_carry_utf8_not_escapes(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """Sites may render the bytes as they come: „ and ü must be UTF-8, not \\u escapes."""
    article = await create_via_api(api, token, fixture("article-stabschefs.de.json"))
    await publish(api, token["editor"], article)

    response = await by_slug(api, article)

    assert "„Zvezda“".encode() in response.content
    assert "hätten".encode() in response.content
    assert b"\\u" not in response.content


async def test_a_related_article_that_goes_offline_disappears_from_the_expansion(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """When a related article goes offline it leaves the expansion and the page's ETag changes."""
    luxus = await create_via_api(api, token, fixture("article-luxusgueter.de.json"))
    stabschefs = await create_via_api(
        api, token, {**fixture("article-stabschefs.de.json"), "related": [luxus["id"]]}
    )
    live_luxus = await publish(api, token["editor"], luxus)
    await publish(api, token["editor"], stabschefs)
    before = await by_slug(api, stabschefs)
    assert [r["id"] for r in before.json()["related"]] == [luxus["id"]]

    await action(api, token["editor"], live_luxus, "unpublish")
    after = await by_slug(api, stabschefs, **{"If-None-Match": before.headers["etag"]})

    assert after.status_code == 200  # the page changed, so a cached copy must not be reused
    assert after.json()["related"] == []
    assert after.headers["etag"] != before.headers["etag"]


async def test_a_related_article_not_yet_published_is_not_expanded(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A related draft is not shown to readers."""
    draft = await create_draft(api, token["author"], title="Noch in Arbeit")
    live = await published(api, token, title="Mit Verweis", related=[draft["id"]])

    assert (await by_slug(api, live)).json()["related"] == []


async def test_related_links_keep_the_editors_order(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """Related articles are expanded in the order the editor listed them, not by date."""
    first = await published(api, token, title="Erster Verweis")
    second = await published(api, token, title="Zweiter Verweis")
    article = await published(api, token, title="Mit zwei Verweisen", related=[second["id"], first["id"]])

    related = (await by_slug(api, article)).json()["related"]

    assert [r["title"] for r in related] == ["Zweiter Verweis", "Erster Verweis"]


async def create_via_api(
    api: httpx2.AsyncClient, token: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await api.post("/v1/admin/articles", json=body, headers=bearer(token["author"]))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# surrogate keys and Cache-Control: what a CDN or Varnish keeps, and what purges it

DEFAULT_CACHE_CONTROL = "public, max-age=60, s-maxage=60, stale-while-revalidate=300, stale-if-error=86400"


def keys_of(response: httpx2.Response) -> list[str]:
    """The surrogate keys, checked to be the same in Surrogate-Key (Fastly) and xkey (Varnish)."""
    assert response.headers["surrogate-key"] == response.headers["xkey"]
    return response.headers["surrogate-key"].split()


def assert_never_cached(response: httpx2.Response) -> None:
    assert response.headers["cache-control"] == "private, no-store"
    assert "surrogate-key" not in response.headers
    assert "xkey" not in response.headers


async def test_an_article_names_itself_its_section_tags_language_and_every_see_also(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """An article's keys: its id, section, tags, language and each "see also" id, shown or not yet live."""
    shown = await published(api, token, title="Hintergrund")
    not_yet = await create_draft(api, token["author"], title="Kommt noch")
    article = await published(
        api,
        token,
        title="Mit Schlagworten",
        section="politik",
        tags=["eu", "wahl"],
        related=[shown["id"], not_yet["id"]],
    )

    response = await by_slug(api, article)
    not_modified = await by_slug(api, article, **{"If-None-Match": response.headers["etag"]})

    assert response.status_code == 200
    assert keys_of(response) == [
        f"article:{article['id']}",
        "section:politik",
        "language:de",
        "tag:eu",
        "tag:wahl",
        f"article:{shown['id']}",
        f"article:{not_yet['id']}",  # its publishing will put it on this page: purging it must reach here
    ]
    assert "related_ids" not in response.json()
    assert response.headers["cache-control"] == DEFAULT_CACHE_CONTROL
    assert not_modified.status_code == 304
    assert keys_of(not_modified) == keys_of(response)
    assert not_modified.headers["cache-control"] == DEFAULT_CACHE_CONTROL


async def test_an_article_with_too_many_keys_falls_back_to_list_all_within_the_cap(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """50 long tags and 20 "see also" ids overflow it: they give way to list:all; its own keys stay."""
    tags = [f"{n:02d}-" + "x" * 117 for n in range(50)]
    related = [(await create_draft(api, token["author"], title=f"Verweis {n}"))["id"] for n in range(20)]
    article = await published(
        api, token, title="Viele Schlagworte", section="politik", tags=tags, related=related
    )

    response = await by_slug(api, article)

    assert response.status_code == 200, response.text
    assert len(response.headers["surrogate-key"]) <= 7000
    assert keys_of(response) == [f"article:{article['id']}", "section:politik", "language:de", "list:all"]


async def test_a_list_names_its_lists_and_every_article_on_the_page(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """The list is list:all, or one key per filter; and it names the id of each article it shows."""
    other = await published(api, token, title="Woanders", section="sport")
    article = await published(api, token, title="Gefiltert", section="politik", tags=["eu"])

    everything = await api.get("/v1/content/articles")
    filtered = await api.get(
        "/v1/content/articles", params={"section": "politik", "tag": "eu", "language": "de"}
    )

    assert keys_of(everything) == ["list:all", f"article:{article['id']}", f"article:{other['id']}"]
    assert keys_of(filtered) == [
        "list:section:politik",
        "list:tag:eu",
        "list:language:de",
        f"article:{article['id']}",
    ]
    assert everything.headers["cache-control"] == DEFAULT_CACHE_CONTROL


async def test_the_list_answers_304_to_its_etag_until_it_changes(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """The list has a strong ETag: 304 with its keys while unchanged, a 200 once an article is published."""
    await published(api, token, title="Erste")
    first = await api.get("/v1/content/articles")
    etag = first.headers["etag"]

    again = await api.get("/v1/content/articles", headers={"If-None-Match": etag})
    newer = await published(api, token, title="Zweite")
    changed = await api.get("/v1/content/articles", headers={"If-None-Match": etag})

    assert etag.startswith('"')
    assert etag.endswith('"')
    assert again.status_code == 304
    assert again.content == b""
    assert keys_of(again) == keys_of(first)
    assert again.headers["cache-control"] == DEFAULT_CACHE_CONTROL
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["items"][0]["id"] == newer["id"]
    assert f"article:{newer['id']}" in keys_of(changed)


async def test_cache_control_directives_are_settings(settings: SystemSettings, token: dict[str, str]) -> None:
    """max-age, s-maxage, stale-while-revalidate and stale-if-error come from the delivery settings."""
    changed = {
        "delivery_max_age": 5,
        "delivery_s_maxage": 600,
        "delivery_stale_while_revalidate": 30,
        "delivery_stale_if_error": 3600,
    }
    async with feeds_client(settings, **changed) as client:
        response = await client.get("/v1/content/articles")

    assert response.status_code == 200
    assert response.headers["cache-control"] == (
        "public, max-age=5, s-maxage=600, stale-while-revalidate=30, stale-if-error=3600"
    )


async def test_errors_on_delivery_are_never_cached_and_name_no_keys(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Delivery's 404s and 422s are private, no-store, without surrogate keys: no CDN keeps an error."""
    draft = await create_draft(api, token["author"], title="Nicht live")

    answers = [
        await api.get("/v1/content/articles/gibt-es-nicht"),
        await api.get(f"/v1/content/articles/{draft['slug']}"),
        await api.get("/v1/content/articles", params={"limit": "1000"}),
        await api.get("/v1/content/articles", params={"cursor": "kaputt"}),
    ]

    assert [a.status_code for a in answers] == [404, 404, 422, 422]
    for answer in answers:
        assert answer.headers["content-type"] == "application/problem+json"
        assert_never_cached(answer)


async def test_admin_answers_are_private_no_store_without_keys(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """An editor's reads (an article, the list, a draft) are private, no-store, without surrogate keys."""
    article = await published(api, token, title="Intern gelesen")
    draft = await create_draft(api, token["author"], title="Intern entworfen")

    answers = [
        await api.get(f"/v1/admin/articles/{article['id']}", headers=bearer(token["editor"])),
        await api.get(f"/v1/admin/articles/{draft['id']}", headers=bearer(token["author"])),
        await api.get("/v1/admin/articles", headers=bearer(token["editor"])),
    ]

    assert [a.status_code for a in answers] == [200, 200, 200]
    for answer in answers:
        assert_never_cached(answer)
