"""The ads consumer end to end: publish through the API, the relay delivers, slots follow the
article's life, and the inventory API counts them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx2
import pytest

from cms.system import SystemSettings
from tests.helpers import action, bearer, create_draft, eventually, fixture, patch, publish
from tests.integration.consumers.ads.helpers import applied, inventory, running_ads, slot_ids, slots_of
from tests.integration.events.helpers import RelayStarter


@pytest.fixture
async def ads_app(consumer_settings: SystemSettings) -> AsyncIterator[httpx2.AsyncClient]:
    async with running_ads(consumer_settings) as client:
        yield client


def _long_body(paragraph_count: int) -> list[dict[str, Any]]:
    """Plain news paragraphs of 39 words each: from 6 paragraphs (234 words) on, in-article slots."""
    sentence = "Der Gemeinderat hat am Abend über den neuen Radweg entlang der Hauptstraße beraten. "
    return [{"type": "paragraph", "text": sentence * 3} for _ in range(paragraph_count)]


async def _settled(db: asyncpg.Connection[asyncpg.Record], article: dict[str, Any]) -> bool:
    return bool(await applied(db, article["id"]) == article["version"])


async def test_the_fixture_article_gets_its_slots_and_targeting_on_publish(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    ads_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """The published Stabschefs article gets four cacheable slots, sizes mapped, with its page targeting."""
    article = await publish(
        api,
        token["editor"],
        await create_draft(api, token["editor"], **fixture("article-stabschefs.de.json")),
    )

    async with running_relay():
        await eventually(lambda: _settled(db, article))

    response = await slots_of(ads_app, article["id"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "public, max-age=60"
    page = response.json()
    print("fixture ad slots:", json.dumps(page, ensure_ascii=False, indent=2))  # for the closing note
    assert page["article_id"] == article["id"]
    assert page["targeting"] == {
        "brand_safety": "sensitive",
        "brand_safety_categories": ["military_conflict"],
        "iab_category": "379",
        "language": "de",
        "section": "world",
        "tags": ["ukraine", "russland", "usa", "pentagon"],
        "word_count": "short",
    }
    assert [(s["key"], s["sizes"], s["after_block"]) for s in page["slots"]] == [
        ("top", ["970x250", "728x90", "320x50"], None),
        ("sidebar", ["300x250", "300x600"], None),
        ("in-article-1", ["300x250"], 4),
        ("bottom", ["728x90", "300x250"], None),
    ]
    assert page["slots"][0]["size_mapping"] == {"desktop": ["970x250", "728x90"], "mobile": ["320x50"]}
    assert all(
        s["targeting"] == {**page["targeting"], "position": s["position"], "slot": s["key"]}
        for s in page["slots"]
    )


async def test_lifecycle_publish_change_unpublish_republish_delete(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    ads_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Slots follow the article: none as draft, more when longer, hidden when down, same ids when back."""
    editor = token["editor"]
    draft = await create_draft(
        api, editor, title="Radweg an der Hauptstraße", section="local", body=_long_body(4)
    )

    async with running_relay():
        await eventually(lambda: _settled(db, draft))
        assert await slot_ids(ads_app, draft["id"]) == {}  # a draft has no page

        live = await publish(api, editor, draft)
        await eventually(lambda: _settled(db, live))
        first = await slot_ids(ads_app, live["id"])
        assert list(first) == ["top", "sidebar", "bottom"]  # 156 words: no in-article slot

        # Longer now (9 paragraphs, 351 words): in-article slots appear, the others keep their ids.
        changed = (await patch(api, editor, live, body=_long_body(9))).json()
        await eventually(lambda: _settled(db, changed))
        second = await slot_ids(ads_app, live["id"])
        assert list(second) == ["top", "sidebar", "in-article-1", "in-article-2", "bottom"]
        assert {key: second[key] for key in first} == first

        unpublished = (await action(api, editor, changed, "unpublish")).json()
        await eventually(lambda: _settled(db, unpublished))
        assert (await slots_of(ads_app, live["id"])).status_code == 404
        assert await _active_rows(db, live["id"]) == 0
        assert await _rows(db, live["id"]) == 5  # kept inactive, ids and all

        republished = await publish(api, editor, unpublished)
        await eventually(lambda: _settled(db, republished))
        assert await slot_ids(ads_app, live["id"]) == second

        deleted = await api.delete(
            f"/v1/admin/articles/{live['id']}",
            headers={**bearer(editor), "If-Match": f'"{republished["version"]}"'},
        )
        assert deleted.status_code in (200, 204), deleted.text
        await eventually(lambda: _version_at_least(db, live["id"], republished["version"] + 1))
        assert await slot_ids(ads_app, live["id"]) == {}
        assert await _active_rows(db, live["id"]) == 0


async def test_slot_ids_stay_stable_when_a_slot_leaves_and_comes_back(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    ads_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A slot that disappears with a shorter text comes back with its old id; the others never change."""
    editor = token["editor"]
    live = await publish(api, editor, await create_draft(api, editor, title="Haushalt", body=_long_body(9)))

    async with running_relay():
        await eventually(lambda: _settled(db, live))
        long = await slot_ids(ads_app, live["id"])
        shorter = (await patch(api, editor, live, title="Haushalt beschlossen", body=_long_body(6))).json()
        await eventually(lambda: _settled(db, shorter))
        short = await slot_ids(ads_app, live["id"])
        longer = (await patch(api, editor, shorter, body=_long_body(9))).json()
        await eventually(lambda: _settled(db, longer))
        again = await slot_ids(ads_app, live["id"])

    assert list(long) == ["top", "sidebar", "in-article-1", "in-article-2", "bottom"]
    assert short == {key: long[key] for key in ("top", "sidebar", "in-article-1", "bottom")}
    assert again == long
    assert len(set(long.values())) == 5


async def _all_settled(db: asyncpg.Connection[asyncpg.Record], articles: list[dict[str, Any]]) -> bool:
    return all([await _settled(db, article) for article in articles])


async def _rows(db: asyncpg.Connection[asyncpg.Record], article_id: str) -> int:
    found: int = await db.fetchval("SELECT count(*) FROM ads.slots WHERE article_id = $1", article_id)
    return found


async def _active_rows(db: asyncpg.Connection[asyncpg.Record], article_id: str) -> int:
    found: int = await db.fetchval(
        "SELECT count(*) FROM ads.slots WHERE article_id = $1 AND active", article_id
    )
    return found


async def _version_at_least(db: asyncpg.Connection[asyncpg.Record], article_id: str, version: int) -> bool:
    return (await applied(db, article_id) or 0) >= version


async def test_inventory_counts_grouped_filtered_and_as_csv(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    ads_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Inventory counts slots and articles, grouped and filtered, as JSON and as the same CSV either way."""
    editor = token["editor"]
    war = await publish(api, editor, await create_draft(api, editor, **fixture("article-stabschefs.de.json")))
    match = await publish(
        api, editor, await create_draft(api, editor, title="Bayern gewinnt in Dortmund", section="sport")
    )
    recipe = await publish(
        api,
        editor,
        await create_draft(
            api, editor, title="Apfelstrudel", section="food", language="de", body=_long_body(7)
        ),
    )

    async with running_relay():
        await eventually(lambda: _all_settled(db, [war, match, recipe]))

    total = await inventory(ads_app, editor)
    assert total == {"group_by": [], "groups": [{"slots": 4 + 3 + 5, "articles": 3}]}

    by_section = await inventory(ads_app, editor, group_by="section")
    assert by_section["groups"] == [
        {"section": "food", "slots": 5, "articles": 1},
        {"section": "sport", "slots": 3, "articles": 1},
        {"section": "world", "slots": 4, "articles": 1},
    ]
    # The spelling: an empty filter groups; a value filters.
    safe_sizes = await inventory(ads_app, editor, size="", brand_safety="safe")
    assert {g["size"]: g["slots"] for g in safe_sizes["groups"]} == {
        "300x250": 2 + 4,  # sidebar and bottom of both, plus the recipe's two in-article slots
        "300x600": 2,
        "320x50": 2,
        "728x90": 4,
        "970x250": 2,
    }
    sensitive = await inventory(ads_app, editor, brand_safety="sensitive", size="300x250", language="de")
    assert sensitive["groups"] == [{"slots": 3, "articles": 1}]

    response = await ads_app.get(
        "/v1/ads/inventory",
        params={"group_by": "section,brand_safety"},
        headers={**bearer(editor), "Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(response.text))) == [
        ["section", "brand_safety", "slots", "articles"],
        ["food", "safe", "5", "1"],
        ["sport", "safe", "3", "1"],
        ["world", "sensitive", "4", "1"],
    ]
    as_param = await ads_app.get(
        "/v1/ads/inventory",
        params={"group_by": "section,brand_safety", "format": "csv"},
        headers=bearer(editor),
    )
    assert as_param.text == response.text


async def test_inventory_is_for_editors_and_checks_its_parameters(
    ads_app: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Inventory needs an editor (401, 403) and refuses unknown values with a 422 problem."""
    assert (await ads_app.get("/v1/ads/inventory")).status_code == 401
    assert (await ads_app.get("/v1/ads/inventory", headers=bearer(token["author"]))).status_code == 403
    for params in ({"group_by": "colour"}, {"size": "big"}, {"brand_safety": "maybe"}, {"format": "xml"}):
        response = await ads_app.get("/v1/ads/inventory", params=params, headers=bearer(token["editor"]))
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
    assert (await ads_app.get("/v1/ads/articles/not-a-uuid/slots")).status_code == 404


async def test_the_consumer_documents_its_endpoints(ads_app: httpx2.AsyncClient) -> None:
    """The ads OpenAPI marks slots as public and inventory as bearer-only with all its filters."""
    document = (await ads_app.get("/openapi.json")).json()

    assert document["paths"]["/v1/ads/articles/{id}/slots"]["get"].get("security") is None  # public
    inventory_op = document["paths"]["/v1/ads/inventory"]["get"]
    assert inventory_op["security"] == [{"bearer": []}]
    assert {p["name"] for p in inventory_op["parameters"]} >= {
        "section",
        "size",
        "brand_safety",
        "language",
        "group_by",
        "format",
    }
