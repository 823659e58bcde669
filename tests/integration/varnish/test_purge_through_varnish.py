"""Purging a real Varnish (deploy/varnish/default.vcl as shipped) in front of a real `cms serve`:
once the purge consumer has confirmed a change's purge, no reader gets the old page."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx2

from tests.helpers import action, bearer, create_draft, patch, publish
from tests.integration.consumers.helpers import outbox_events, send_to_queue
from tests.integration.varnish.helpers import Stack, applied, metric, purged, varnish_counter
from tests.processes import stop

Record = asyncpg.Record


def page(article: dict[str, Any]) -> str:
    return f"/v1/content/articles/{article['slug']}?language={article['language']}"


async def changed(
    api: httpx2.AsyncClient, token: str, article: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    response = await patch(api, token, article, **fields)
    assert response.status_code == 200, response.text
    updated: dict[str, Any] = response.json()
    return updated


async def settled(db: asyncpg.Connection[Record], article: dict[str, Any]) -> None:
    """Until the purge consumer applied this version and Varnish confirmed every queued key."""
    await applied(db, article["id"], article["version"])
    await purged(db)


async def test_no_stale_page_after_update_unpublish_kill_and_delete(
    stack: Stack, api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Each change, once its purge is confirmed, shows at the next read through Varnish: the new
    title after an update (page and list), 404 after unpublish, kill and delete."""
    editor = token["editor"]
    story = await publish(
        api, editor, await create_draft(api, editor, title="Erste Fassung", section="world")
    )
    await settled(db, story)
    assert (await stack.cached(page(story))).json()["title"] == "Erste Fassung"
    assert [
        item["title"] for item in (await stack.cached("/v1/content/articles?section=world")).json()["items"]
    ] == ["Erste Fassung"]

    story = await changed(api, editor, story, title="Zweite Fassung")
    await settled(db, story)
    fresh = await stack.through_cache.get(page(story))
    assert fresh.json()["title"] == "Zweite Fassung"
    assert fresh.headers["x-cache"] == "MISS"  # fetched anew, not a stale copy
    listed = await stack.through_cache.get("/v1/content/articles?section=world")
    assert [item["title"] for item in listed.json()["items"]] == ["Zweite Fassung"]
    assert (await stack.cached(page(story))).json()["title"] == "Zweite Fassung"

    unpublished = (await action(api, editor, story, "unpublish")).json()
    await settled(db, unpublished)
    assert (await stack.through_cache.get(page(story))).status_code == 404
    assert (await stack.through_cache.get("/v1/content/articles?section=world")).json()["items"] == []

    again = await publish(api, editor, unpublished)
    await settled(db, again)
    assert (await stack.cached(page(again))).status_code == 200
    killed = (await action(api, editor, again, "kill", {"reason": "court order"})).json()
    await settled(db, killed)
    assert (await stack.through_cache.get(page(again))).status_code == 404

    other = await publish(api, editor, await create_draft(api, editor, title="Bald gelöscht"))
    await settled(db, other)
    assert (await stack.cached(page(other))).status_code == 200
    deleted = await api.delete(
        f"/v1/admin/articles/{other['id']}", headers={**bearer(editor), "If-Match": f'"{other["version"]}"'}
    )
    assert deleted.status_code in (200, 204), deleted.text
    await applied(db, other["id"], other["version"] + 1)
    await purged(db)
    assert (await stack.through_cache.get(page(other))).status_code == 404


async def test_a_see_also_title_change_purges_the_articles_that_show_it(
    stack: Stack, api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A page showing another article as "see also" shows that article's new title once its
    update is purged, though the page itself did not change."""
    editor = token["editor"]
    background = await publish(api, editor, await create_draft(api, editor, title="Hintergrund alt"))
    story = await publish(
        api, editor, await create_draft(api, editor, title="Die Geschichte", related=[background["id"]])
    )
    await settled(db, story)
    assert [link["title"] for link in (await stack.cached(page(story))).json()["related"]] == [
        "Hintergrund alt"
    ]

    background = await changed(api, editor, background, title="Hintergrund neu")
    await settled(db, background)

    shown = await stack.through_cache.get(page(story))
    assert [link["title"] for link in shown.json()["related"]] == ["Hintergrund neu"]
    assert shown.headers["x-cache"] == "MISS"


async def test_no_draft_preview_or_authenticated_answer_is_ever_cached(
    stack: Stack, api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Admin reads, preview links and any request with a cookie or Authorization go to the
    backend every time: Varnish keeps no object for them, and each answer shows the latest."""
    editor = token["editor"]
    draft = await create_draft(api, editor, title="Entwurf eins")
    live = await publish(api, editor, await create_draft(api, editor, title="Öffentlich"))
    made = await api.post(f"/v1/admin/articles/{draft['id']}/previews", json={}, headers=bearer(editor))
    assert made.status_code == 201, made.text
    preview = urlsplit(made.json()["url"]).path
    hits_before = await varnish_counter(stack.cache.workdir, "MAIN.cache_hit")
    requests = [
        ("/v1/admin/articles/" + draft["id"], bearer(editor)),
        (preview, {}),
        (page(live), {"Cookie": "cms_session=someone"}),
        (page(live), bearer(editor)),
    ]
    for path, headers in requests * 2:
        response = await stack.through_cache.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["x-cache"] == "MISS"
        assert "age" not in response.headers or response.headers["age"] == "0"

    draft = await changed(api, editor, draft, title="Entwurf zwei")
    assert (
        await stack.through_cache.get("/v1/admin/articles/" + draft["id"], headers=bearer(editor))
    ).json()["title"] == "Entwurf zwei"
    assert (await stack.through_cache.get(preview)).json()["title"] == "Entwurf zwei"
    assert await varnish_counter(stack.cache.workdir, "MAIN.cache_hit") == hits_before


async def test_grace_serves_stale_while_the_backend_fails_but_never_a_killed_story(
    stack: Stack, api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """With `cms serve` down, a cached page is still served (stale-if-error), an uncached one is
    a 503; a kill purges hard, so the killed story is not served even then."""
    editor = token["editor"]
    kept = await publish(api, editor, await create_draft(api, editor, title="Bleibt stehen"))
    doomed = await publish(api, editor, await create_draft(api, editor, title="Muss weg"))
    await settled(db, doomed)
    await stack.cached(page(kept))
    await stack.cached(page(doomed))

    await stop(stack.backend)
    killed = (await action(api, editor, doomed, "kill", {"reason": "court order"})).json()
    await settled(db, killed)

    stale = await stack.through_cache.get(page(kept))
    assert stale.status_code == 200
    assert stale.json()["title"] == "Bleibt stehen"
    assert (await stack.through_cache.get(page(doomed))).status_code == 503
    assert (await stack.through_cache.get("/v1/content/articles?tag=never-cached")).status_code == 503


async def test_the_purge_consumer_survives_varnish_being_unreachable_and_catches_up(
    stack: Stack, api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """While Varnish cannot be reached, purges wait and are retried (nothing dead-lettered or
    dropped); once it is back, the waiting purge goes through and the page is fresh."""
    editor = token["editor"]
    story = await publish(api, editor, await create_draft(api, editor, title="Vor dem Ausfall"))
    await settled(db, story)
    await stack.cached(page(story))

    stack.to_cache.cut()
    story = await changed(api, editor, story, title="Nach dem Ausfall")
    await applied(db, story["id"], story["version"])
    metrics = ""
    for _ in range(100):
        metrics = (await stack.purge_app.get("/metrics")).text
        if _failed_batches(metrics) >= 2:
            break
        await asyncio.sleep(0.1)
    assert _failed_batches(metrics) >= 2, "the purge was not retried"
    assert (
        await db.fetchval("SELECT count(*) FROM purge.pending WHERE key = $1", f"article:{story['id']}") == 1
    )
    assert (await stack.through_cache.get(page(story))).json()[
        "title"
    ] == "Vor dem Ausfall"  # it cannot know yet

    stack.to_cache.restore()
    await purged(db)
    assert (await stack.through_cache.get(page(story))).json()["title"] == "Nach dem Ausfall"
    assert metric(metrics, 'cms_consumer_dead_lettered_total{consumer="purge"}') == 0


async def test_a_redelivered_event_purges_again_harmlessly(
    stack: Stack, api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """The same event delivered again purges the same page again (a fresh fetch, same content),
    and nothing fails or is dead-lettered."""
    editor = token["editor"]
    story = await publish(api, editor, await create_draft(api, editor, title="Einmal reicht"))
    await settled(db, story)
    first = await stack.cached(page(story))
    remembered = await db.fetchrow(
        "SELECT version, shown, before FROM purge.articles WHERE article_id = $1", story["id"]
    )

    published_event = (await outbox_events(db, story["id"]))[-1]
    await send_to_queue(f"{stack.settings.amqp_prefix}.purge", published_event)
    await _until_miss(stack, page(story))
    await purged(db)

    again = await stack.through_cache.get(page(story))
    assert again.json() == first.json()
    assert (
        await db.fetchrow(
            "SELECT version, shown, before FROM purge.articles WHERE article_id = $1", story["id"]
        )
        == remembered
    )
    metrics = (await stack.purge_app.get("/metrics")).text
    assert metric(metrics, 'cms_consumer_dead_lettered_total{consumer="purge"}') == 0
    assert metric(metrics, 'cms_consumer_failed_total{consumer="purge"}') == 0
    assert _failed_batches(metrics) == 0


async def _until_miss(stack: Stack, path: str) -> None:
    """Until a read of `path` is fetched anew (the redelivered event's purge reached Varnish)."""
    for _ in range(200):
        if (await stack.through_cache.get(path)).headers["x-cache"] == "MISS":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} was never purged again")


def _failed_batches(metrics: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("cms_purge_batches_total{") and 'outcome="failed"' in line
    )
