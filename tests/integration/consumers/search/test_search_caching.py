"""Search answers a shared cache may keep: keys a purge names, a short s-maxage, ETag and 304."""

from __future__ import annotations

import httpx2

from tests.helpers import create_draft, eventually, publish
from tests.integration.events.helpers import RelayStarter


async def test_a_search_answer_names_its_lists_and_hits_and_answers_304_when_unchanged(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
) -> None:
    """Filtered by section, the answer names that list and each hit's article key (what the purge
    consumer purges when an article enters, leaves or changes); its ETag gives a 304."""
    article = await publish(
        api,
        token["editor"],
        await create_draft(api, token["editor"], title="Zollstreit", section="wirtschaft"),
    )
    params = {"q": "Zollstreit", "section": "wirtschaft"}
    async with running_relay():

        async def found() -> bool:
            return bool((await search_app.get("/v1/search", params=params)).json()["items"])

        await eventually(found)
    response = await search_app.get("/v1/search", params=params)
    again = await search_app.get(
        "/v1/search", params=params, headers={"If-None-Match": response.headers["etag"]}
    )
    unfiltered = await search_app.get("/v1/search", params={"q": "nichtsdergleichen"})

    assert response.headers["xkey"] == f"list:section:wirtschaft article:{article['id']}"
    assert response.headers["surrogate-key"] == response.headers["xkey"]
    assert response.headers["cache-control"] == (
        "public, max-age=30, s-maxage=30, stale-while-revalidate=150, stale-if-error=3600"
    )
    assert again.status_code == 304
    assert again.content == b""
    assert unfiltered.json()["items"] == []
    assert unfiltered.headers["xkey"] == "list:all"
    assert unfiltered.headers["etag"] != response.headers["etag"]
