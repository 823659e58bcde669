"""A kill end to end: through the relay to search, ads and social running together, and to any
downstream queue, within seconds."""

from __future__ import annotations

import time

import asyncpg
import httpx2

from cms.system import SystemSettings
from tests.helpers import action, eventually
from tests.integration.consumers.ads.helpers import running_ads, slots_of
from tests.integration.consumers.social.fakes import networks
from tests.integration.consumers.social.helpers import (
    all_in,
    published_fixture,
    running_social,
    social_settings,
    statuses,
)
from tests.integration.events.helpers import EventTap, RelayStarter, body

WITHIN = 10.0


async def _found(search: httpx2.AsyncClient, q: str) -> bool:
    response = await search.get("/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    return bool(response.json()["items"])


async def test_a_kill_clears_delivery_search_ads_and_social_within_seconds_and_reaches_a_tap(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    search_app: httpx2.AsyncClient,
    running_relay: RelayStarter,
    tap: EventTap,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A kill: delivery 404 at once; search hit, ad slots and social posts gone within seconds."""
    async with (
        networks() as fakes,
        running_ads(consumer_settings) as ads,
        running_social(social_settings(consumer_settings, fakes)),
        running_relay(),
    ):
        article = await published_fixture(api, token)
        await eventually(lambda: _found(search_app, "Pentagon"), within=20)
        await eventually(lambda: _slots_answer(ads, article["id"], 200), within=20)
        await eventually(lambda: _posts_are(db, article["id"], "sent"), within=20)
        assert len(fakes.mastodon.statuses) == 1

        started = time.monotonic()
        killed = await action(api, token["editor"], article, "kill", {"reason": "einstweilige Verfügung"})
        assert killed.status_code == 200, killed.text
        assert (await api.get(f"/v1/content/articles/{article['slug']}")).status_code == 404
        listed = (await api.get("/v1/content/articles")).json()["items"]
        assert article["id"] not in [item["id"] for item in listed]

        await eventually(lambda: _gone(search_app, "Pentagon"), within=WITHIN)
        await eventually(lambda: _slots_answer(ads, article["id"], 404), within=WITHIN)
        await eventually(lambda: _posts_are(db, article["id"], "retracted"), within=WITHIN)
        elapsed = time.monotonic() - started

    print(f"kill cleared search, ads and social in {elapsed:.2f} s")
    assert elapsed < WITHIN
    assert fakes.mastodon.statuses == {}
    assert fakes.bluesky.posts == []
    assert len(fakes.webhook.retracted) == 1

    messages = await tap.take(3)
    assert [m.routing_key for m in messages] == ["article.created", "article.published", "article.killed"]
    event = body(messages[-1])
    assert event["type"] == "cms.article.killed"
    assert messages[-1].type == "cms.article.killed"
    assert (event["subject"], event["data"]["status"]) == (article["id"], "killed")
    assert event["data"]["killed_at"] is not None
    assert "Verfügung" not in messages[-1].body.decode()
    assert await tap.quiet() == []


async def _gone(search: httpx2.AsyncClient, q: str) -> bool:
    return not await _found(search, q)


async def _slots_answer(ads: httpx2.AsyncClient, article_id: str, expected: int) -> bool:
    """200: the article has active slots; 404: none (retired)."""
    return (await slots_of(ads, article_id)).status_code == expected


async def _posts_are(db: asyncpg.Connection[asyncpg.Record], article_id: str, status: str) -> bool:
    try:
        return await statuses(db, article_id) == all_in(status)
    except asyncpg.UndefinedTableError:
        return False
