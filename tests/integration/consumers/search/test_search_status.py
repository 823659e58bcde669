"""The search consumer's per-article status, and a preview link that never reaches the index."""

from __future__ import annotations

import asyncpg
import httpx2

from tests.helpers import action, bearer, create_draft, event_types, eventually, publish
from tests.integration.events.helpers import RelayStarter

Record = asyncpg.Record


async def _found(search: httpx2.AsyncClient, q: str) -> list[dict[str, object]]:
    response = await search.get("/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_the_index_says_which_version_of_an_article_it_holds(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
) -> None:
    """`GET /v1/search/articles/{id}` answers the indexed version to editors, and 404 once unpublished."""
    article = await publish(
        api, token["editor"], await create_draft(api, token["editor"], title="Zollstreit")
    )
    url = f"/v1/search/articles/{article['id']}"
    async with running_relay():
        await eventually(lambda: _status_is(search_app, url, token["editor"], 200))
        indexed = await search_app.get(url, headers=bearer(token["editor"]))
        as_author = await search_app.get(url, headers=bearer(token["author"]))
        anonymous = await search_app.get(url)
        unknown = await search_app.get(
            "/v1/search/articles/6f1c1a5e-0000-4000-8000-000000000000", headers=bearer(token["editor"])
        )
        assert (await action(api, token["editor"], article, "unpublish")).status_code == 200
        await eventually(lambda: _status_is(search_app, url, token["editor"], 404))

    assert indexed.json()["version"] == article["version"]
    assert indexed.json()["article_id"] == article["id"]
    assert indexed.headers["cache-control"] == "private, no-store"
    assert (as_author.status_code, anonymous.status_code, unknown.status_code) == (403, 401, 404)


async def _status_is(client: httpx2.AsyncClient, url: str, token: str, status: int) -> bool:
    return (await client.get(url, headers=bearer(token))).status_code == status


async def test_a_previewed_draft_is_in_no_delivery_list_no_search_and_no_event(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
    db: asyncpg.Connection[Record],
) -> None:
    """A draft with a preview link: absent from delivery and search (consumer running), and no event made."""
    draft = await create_draft(api, token["author"], title="Vorschau Quastenflosser", lead="Quastenflosser")
    preview = await api.post(f"/v1/admin/articles/{draft['id']}/previews", headers=bearer(token["author"]))
    assert preview.status_code == 201
    shown = await api.get(preview.json()["url"])
    # A marker published after the draft: once it is found, the index has caught up past the draft.
    marker = await publish(api, token["editor"], await create_draft(api, token["editor"], title="Pfeilhecht"))

    async with running_relay():
        await eventually(lambda: _has_hits(search_app, "Pfeilhecht"), within=15)
        hits = await _found(search_app, "Quastenflosser")
        status = await search_app.get(f"/v1/search/articles/{draft['id']}", headers=bearer(token["editor"]))
    listing = await api.get("/v1/content/articles")
    by_slug = await api.get(f"/v1/content/articles/{draft['slug']}")

    assert shown.status_code == 200
    assert shown.json()["title"] == "Vorschau Quastenflosser"
    assert hits == []
    assert status.status_code == 404
    assert [item["id"] for item in listing.json()["items"]] == [marker["id"]]
    assert by_slug.status_code == 404
    assert await event_types(db, draft["id"]) == ["cms.article.created"]


async def _has_hits(search: httpx2.AsyncClient, q: str) -> bool:
    return bool(await _found(search, q))
