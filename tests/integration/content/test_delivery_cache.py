"""The in-process delivery cache with the real database, relay and broker: served from memory,
dropped by the events of changes made through the admin API, off while its subscription is
down, never for a caller with credentials."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx2
import pytest
from starlette.applications import Starlette

from cms.app import create_app
from cms.system import SystemSettings
from tests.helpers import action, bearer, create_draft, eventually, patch, publish
from tests.integration.events.helpers import RelayStarter
from tests.proxy import TcpProxy, proxy_to

# Changes reach the cache through the relay (polling every 0.2 s here) and the broker.
FRESH_WITHIN = 5.0
# After a change its answers are not stored for this long (a lagging replica): short here.
SETTLE = 0.2

Reader = Callable[..., Awaitable[httpx2.Response]]


@contextlib.asynccontextmanager
async def cached_app(settings: SystemSettings) -> AsyncIterator[httpx2.AsyncClient]:
    """The content API with the cache on, started, and serving (its subscription up)."""
    application: Starlette = create_app(
        settings.model_copy(
            update={
                "delivery_cache_enabled": True,
                "delivery_cache_heartbeat": 2,
                "delivery_cache_settle": SETTLE,
            }
        )
    )
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            await eventually(lambda: serving(client, True))
            yield client


async def metric(client: httpx2.AsyncClient, name: str) -> float:
    text = (await client.get("/metrics")).text
    found = re.search(rf"^{name}(?:_total)? ([0-9.e+]+)$", text, re.MULTILINE)
    assert found is not None, f"{name} is not on /metrics"
    return float(found.group(1))


async def serving(client: httpx2.AsyncClient, expected: bool) -> bool:
    return await metric(client, "cms_delivery_cache_serving") == (1.0 if expected else 0.0)


async def title_behind_the_api(
    db: asyncpg.Connection[asyncpg.Record], article: dict[str, Any], title: str
) -> None:
    """Change the row without an event: only a read that asks the database sees it."""
    await db.execute("UPDATE articles SET title = $1 WHERE id = $2", title, article["id"])


@pytest.fixture
async def relay(running_relay: RelayStarter) -> AsyncIterator[None]:
    async with running_relay():
        yield


async def new_live(
    client: httpx2.AsyncClient, token: dict[str, str], slug: str, **fields: Any
) -> dict[str, Any]:
    """A published article, once the cache has received its events (created, published)."""
    events = await metric(client, "cms_delivery_cache_events")
    draft = await create_draft(client, token["author"], slug=slug, **fields)
    article = await publish(client, token["editor"], draft)
    await eventually(lambda: received(client, events + 2), within=FRESH_WITHIN)
    await asyncio.sleep(SETTLE)
    return article


async def received(client: httpx2.AsyncClient, count: float) -> bool:
    return await metric(client, "cms_delivery_cache_events") >= count


async def test_a_second_read_comes_from_memory(
    event_settings: SystemSettings, relay: None, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """After one read, the answer comes from memory: a change made behind the API is not seen, hits count."""
    async with cached_app(event_settings) as client:
        article = await new_live(client, token, "stabschefs", title="Erster Titel")
        path = f"/v1/content/articles/{article['slug']}"
        first = await client.get(path)
        await title_behind_the_api(db, article, "Hinter dem Rücken")
        second = await client.get(path)
        assert (first.status_code, second.status_code) == (200, 200)
        assert second.json()["title"] == "Erster Titel"
        assert second.headers["etag"] == first.headers["etag"]
        assert "public" in second.headers["cache-control"]
        assert await metric(client, "cms_delivery_cache_hits") == 1
        assert await metric(client, "cms_delivery_cache_misses") == 1


async def read_until(client: httpx2.AsyncClient, path: str, done: Callable[[httpx2.Response], bool]) -> float:
    """Seconds until a read of `path` satisfies `done`; fails after FRESH_WITHIN."""
    started = time.monotonic()

    async def check() -> bool:
        return done(await client.get(path))

    await eventually(check, within=FRESH_WITHIN, every=0.02)
    return time.monotonic() - started


@pytest.mark.parametrize("change", ["update", "unpublish", "kill", "delete"])
async def test_a_change_through_the_admin_api_is_read_fresh_within_the_bound(
    event_settings: SystemSettings, relay: None, token: dict[str, str], change: str
) -> None:
    """update, unpublish, kill, delete: the event drops the cached answer, the next reads are fresh."""
    async with cached_app(event_settings) as client:
        article = await new_live(client, token, "stabschefs", title="Erster Titel")
        path = f"/v1/content/articles/{article['slug']}"
        assert (await client.get(path)).json()["title"] == "Erster Titel"
        assert (await client.get(path)).json()["title"] == "Erster Titel"
        hits = await metric(client, "cms_delivery_cache_hits")
        assert hits == 1
        editor = token["editor"]
        if change == "update":
            response = await patch(client, editor, article, title="Korrigierter Titel")
        elif change == "unpublish":
            response = await action(client, editor, article, "unpublish")
        elif change == "kill":
            response = await action(client, editor, article, "kill", {"reason": "einstweilige Verfügung"})
        else:
            response = await client.delete(
                f"/v1/admin/articles/{article['id']}",
                headers={**bearer(editor), "If-Match": f'"{article["version"]}"'},
            )
        assert response.status_code in (200, 204), response.text

        def fresh(answer: httpx2.Response) -> bool:
            if change == "update":
                return answer.status_code == 200 and answer.json()["title"] == "Korrigierter Titel"
            return answer.status_code == 404

        await read_until(client, path, fresh)
        assert await metric(client, "cms_delivery_cache_invalidations") >= 1
        for _ in range(3):  # and it stays fresh: the old answer is not served again
            assert fresh(await client.get(path))


async def test_a_see_also_title_change_drops_the_pages_showing_it(
    event_settings: SystemSettings, relay: None, token: dict[str, str]
) -> None:
    """A page is dropped when an article it shows as "see also" changes; first list pages too."""
    async with cached_app(event_settings) as client:
        related = await new_live(client, token, "luxusgueter", title="Luxusgüter")
        main = await new_live(client, token, "stabschefs", related=[related["id"]])
        path = f"/v1/content/articles/{main['slug']}"
        assert (await client.get(path)).json()["related"][0]["title"] == "Luxusgüter"
        listed = await client.get("/v1/content/articles")
        assert [item["title"] for item in listed.json()["items"]][1] == "Luxusgüter"
        updated = await patch(client, token["editor"], related, title="Luxusgüter, neu")
        assert updated.status_code == 200, updated.text

        await read_until(client, path, lambda a: a.json()["related"][0]["title"] == "Luxusgüter, neu")
        await read_until(
            client,
            "/v1/content/articles",
            lambda a: "Luxusgüter, neu" in [i["title"] for i in a.json()["items"]],
        )


async def test_with_the_subscription_down_nothing_stale_is_served(
    event_settings: SystemSettings, relay: None, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Broker cut: the cache stops at once, every read asks the database; back up, it serves again."""
    broker = re.match(r"amqp://[^@]*@([^:/]+):(\d+)", event_settings.amqp_url)
    assert broker is not None
    proxy: TcpProxy
    async with proxy_to(broker.group(1), int(broker.group(2))) as proxy:
        proxied = event_settings.amqp_url.replace(
            f"{broker.group(1)}:{broker.group(2)}", f"127.0.0.1:{proxy.port}"
        )
        async with cached_app(event_settings.model_copy(update={"amqp_url": proxied})) as client:
            article = await new_live(client, token, "stabschefs", title="Erster Titel")
            path = f"/v1/content/articles/{article['slug']}"
            await client.get(path)
            await client.get(path)
            assert await metric(client, "cms_delivery_cache_hits") == 1

            proxy.cut()
            await eventually(lambda: serving(client, False), within=FRESH_WITHIN)
            # Changed while no event can reach this process: the next read must still see it.
            await title_behind_the_api(db, article, "Während der Störung")
            for _ in range(3):
                assert (await client.get(path)).json()["title"] == "Während der Störung"
            assert await metric(client, "cms_delivery_cache_hits") == 1  # none since the cut
            assert await metric(client, "cms_delivery_cache_entries") == 0

            proxy.restore()
            await eventually(lambda: serving(client, True), within=15)
            await client.get(path)
            assert (await client.get(path)).json()["title"] == "Während der Störung"
            assert await metric(client, "cms_delivery_cache_hits") == 2  # serving again


async def test_a_broker_gone_silent_stops_the_cache_within_twice_the_heartbeat(
    event_settings: SystemSettings, relay: None, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """A stalled link (nothing closed, nothing answered) stops the cache within 2 x heartbeat."""
    broker = re.match(r"amqp://[^@]*@([^:/]+):(\d+)", event_settings.amqp_url)
    assert broker is not None
    heartbeat = 2  # as cached_app sets it
    async with proxy_to(broker.group(1), int(broker.group(2))) as proxy:
        proxied = event_settings.amqp_url.replace(
            f"{broker.group(1)}:{broker.group(2)}", f"127.0.0.1:{proxy.port}"
        )
        async with cached_app(event_settings.model_copy(update={"amqp_url": proxied})) as client:
            article = await new_live(client, token, "stabschefs", title="Erster Titel")
            path = f"/v1/content/articles/{article['slug']}"
            await client.get(path)
            proxy.stall()
            stalled = time.monotonic()
            assert (await client.get(path)).json()[
                "title"
            ] == "Erster Titel"  # still serving: not noticed yet
            await eventually(lambda: serving(client, False), within=2 * heartbeat + 1)
            noticed = time.monotonic() - stalled
            await title_behind_the_api(db, article, "Während der Stille")
            assert (await client.get(path)).json()["title"] == "Während der Stille"
            assert noticed <= 2 * heartbeat + 0.5
            proxy.restore()


async def test_a_request_with_credentials_bypasses_the_cache(
    event_settings: SystemSettings, relay: None, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """With a bearer token delivery reads the database every time and its answer is never stored."""
    async with cached_app(event_settings) as client:
        article = await new_live(client, token, "stabschefs", title="Erster Titel")
        path = f"/v1/content/articles/{article['slug']}"
        credentialed = await client.get(path, headers=bearer(token["editor"]))
        assert credentialed.status_code == 200
        assert await metric(client, "cms_delivery_cache_entries") == 0
        await client.get(path)  # the anonymous read fills
        await title_behind_the_api(db, article, "Hinter dem Rücken")
        again = await client.get(path, headers=bearer(token["editor"]))
        assert again.json()["title"] == "Hinter dem Rücken"
        assert (await client.get(path)).json()["title"] == "Erster Titel"
        assert await metric(client, "cms_delivery_cache_bypasses") == 2
        assert await metric(client, "cms_delivery_cache_entries") == 1
