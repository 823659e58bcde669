"""Where is it live: `/distribution` gathers delivery, the outbox and each consumer's own view
over real HTTP, and a consumer that is down or silent is `unknown` without delaying the answer."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import httpx2
import uvicorn
from starlette.applications import Starlette

from cms.app import create_app
from cms.platform.application import create_ops_app
from cms.system import SystemSettings, everything
from consumers import process
from consumers.registry import CONSUMERS
from consumers.search import SPEC as SEARCH
from tests.helpers import bearer, create_draft, eventually, fixture, free_port, patch, publish
from tests.integration.consumers.helpers import delete_consumer_queues, is_ready
from tests.integration.people import PASSWORD, make_person


@contextlib.asynccontextmanager
async def served(application: Starlette, sock: socket.socket) -> AsyncIterator[httpx2.AsyncClient]:
    """`application` served by uvicorn on `sock` (its lifespan too), and a client for it."""
    config = uvicorn.Config(application, log_level="warning", access_log=False, ws="none", http="h11")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(30):
            while not server.started:  # noqa: ASYNC110 (waiting for uvicorn to listen)
                await asyncio.sleep(0.02)
        host, port = sock.getsockname()
        async with httpx2.AsyncClient(base_url=f"http://{host}:{port}", trust_env=False) as client:
            yield client
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
        sock.close()


def listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


async def distribution(client: httpx2.AsyncClient, token: str, article: dict[str, Any]) -> dict[str, Any]:
    response = await client.get(f"/v1/admin/articles/{article['id']}/distribution", headers=bearer(token))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_published_article_is_seen_live_indexed_posted_and_given_ad_slots(
    consumer_settings: SystemSettings, token: dict[str, str]
) -> None:
    """`cms up` on a real port: once published, distribution shows delivery, search, social and ads agree."""
    sock = listening_socket()
    # No consumer URL set: they are found where `cms up` serves them, on its own host and port.
    system = everything(
        consumer_settings.model_copy(update={"host": "127.0.0.1", "port": sock.getsockname()[1]})
    )
    try:
        async with served(system, sock) as client:
            await eventually(lambda: is_ready(client), within=30)
            draft = await create_draft(client, token["editor"], **fixture("article-stabschefs.de.json"))
            before = await distribution(client, token["editor"], draft)
            article = await publish(client, token["editor"], draft)

            async def everywhere() -> bool:
                seen = await distribution(client, token["editor"], article)
                views = seen["consumers"]
                return bool(
                    views["search"]["state"] == "indexed"
                    and views["ads"]["state"] == "live"
                    and views["social"]["posts"]
                    and seen["outbox"]["unsent"] == 0
                )

            await eventually(everywhere, within=20, every=0.2)
            seen = await distribution(client, token["editor"], article)
            slots = (await client.get(f"/v1/ads/articles/{article['id']}/slots")).json()
    finally:
        for spec in CONSUMERS.values():
            await delete_consumer_queues(consumer_settings, spec.queue(consumer_settings))

    assert before["delivery"]["live"] is False
    assert before["consumers"]["search"]["state"] == "not_indexed"
    assert before["consumers"]["ads"] == {
        "state": "none",
        "version": None,
        "slots": 0,
        "brand_safety": None,
        "reason": None,
    }
    assert before["consumers"]["social"] == {"state": "known", "posts": [], "reason": None}
    assert seen["version"] == article["version"]
    assert seen["delivery"] == {
        "live": True,
        "version": article["version"],
        "status": "published",
        "reason": None,
    }
    assert seen["outbox"] == {"unsent": 0, "parked": 0, "oldest_unsent_at": None, "oldest_parked_at": None}
    search = seen["consumers"]["search"]
    assert (search["state"], search["version"], search["reason"]) == ("indexed", article["version"], None)
    ads = seen["consumers"]["ads"]
    assert ads["slots"] == len(slots["slots"]) > 0
    assert ads["brand_safety"] == slots["targeting"]["brand_safety"]
    assert ads["version"] == article["version"]
    social = seen["consumers"]["social"]
    assert social["state"] == "known"
    assert {post["status"] for post in social["posts"]} == {"ready"}  # no channel configured: kept for review


async def test_a_consumer_that_is_down_or_silent_is_unknown_and_the_answer_comes_in_time(
    settings: SystemSettings, token: dict[str, str]
) -> None:
    """A closed port and a silent server show as `unknown` with the reason, within the timeout."""
    accepted: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # keep the connection open, say nothing

    silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    silent_url = f"http://127.0.0.1:{silent.sockets[0].getsockname()[1]}"
    closed_url = f"http://127.0.0.1:{free_port()}"
    tuned = settings.model_copy(
        update={
            "search_url": silent_url,
            "social_url": closed_url,
            "ads_url": silent_url,
            "distribution_timeout": 0.5,
        }
    )
    application = create_app(tuned)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx2.ASGITransport(app=application)
            async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
                draft = await create_draft(client, token["editor"])
                started = time.monotonic()
                seen = await distribution(client, token["editor"], draft)
                took = time.monotonic() - started
    finally:
        silent.close()
        for writer in accepted:
            writer.close()

    assert took < 2.0  # in parallel, each bounded by 0.5 s
    assert accepted  # the silent server was really asked
    views = seen["consumers"]
    assert views["search"] == {
        "state": "unknown",
        "version": None,
        "indexed_at": None,
        "reason": "no answer within 0.5 s",
    }
    assert views["ads"]["state"] == "unknown"
    assert views["ads"]["reason"] == "no answer within 0.5 s"
    assert views["social"]["state"] == "unknown"
    assert views["social"]["reason"].startswith("unreachable: ConnectError")
    assert seen["delivery"] == {
        "live": False,
        "version": None,
        "status": "draft",
        "reason": "a draft: not published",
    }
    assert seen["outbox"]["unsent"] == 1  # its `created` event: no relay runs here
    assert seen["outbox"]["parked"] == 0
    assert seen["outbox"]["oldest_unsent_at"] is not None


async def test_a_server_without_the_consumer_routes_is_unknown_not_empty(
    settings: SystemSettings, token: dict[str, str]
) -> None:
    """A 404 from a server lacking the route is `unknown`, never mistaken for "not indexed" or "no slots"."""
    sock = listening_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    tuned = settings.model_copy(update={"search_url": base, "social_url": base, "ads_url": base})
    application = create_app(tuned)
    # The content API alone on a real port: it has none of the consumers' routes.
    async with served(create_app(settings), sock), application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            draft = await create_draft(client, token["editor"])
            seen = await distribution(client, token["editor"], draft)

    views = seen["consumers"]
    assert views["search"]["state"] == "unknown"
    assert views["search"]["reason"] == "answered 404"
    assert views["social"] == {"state": "unknown", "posts": [], "reason": "answered 404"}
    assert (views["ads"]["state"], views["ads"]["reason"]) == ("unknown", "answered 404")


async def test_the_callers_token_is_forwarded_unless_a_distribution_token_is_set(
    consumer_settings: SystemSettings, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The caller's token is forwarded (search says not indexed); a configured unknown one gets 401."""
    sock = listening_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    factory, operations = process.parts(SEARCH, consumer_settings)
    search = create_ops_app(consumer_settings, [factory], name="cms-search", extra_operations=operations)
    forwarding = create_app(consumer_settings.model_copy(update={"search_url": base}))
    configured = create_app(
        consumer_settings.model_copy(update={"search_url": base, "distribution_token": "cms_never-issued"})
    )
    try:
        async with served(search, sock) as search_client:
            await eventually(lambda: is_ready(search_client), within=15)
            views = []
            for application in (forwarding, configured):
                async with application.router.lifespan_context(application):
                    transport = httpx2.ASGITransport(app=application)
                    async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
                        draft = await create_draft(client, token["editor"])
                        views.append(
                            (await distribution(client, token["editor"], draft))["consumers"]["search"]
                        )
                        if application is forwarding:
                            views.append(await _signed_in_view(client, db, draft))
    finally:
        await delete_consumer_queues(consumer_settings, SEARCH.queue(consumer_settings))

    not_indexed = {"state": "not_indexed", "version": None, "indexed_at": None, "reason": None}
    assert views[0] == not_indexed
    assert views[1] == not_indexed  # a signed-in editor's session cookie is forwarded
    assert views[2] == {"state": "unknown", "version": None, "indexed_at": None, "reason": "answered 401"}


async def _signed_in_view(
    client: httpx2.AsyncClient, db: asyncpg.Connection[asyncpg.Record], article: dict[str, Any]
) -> dict[str, Any]:
    """The search view of `article` as a person signed in by cookie sees it (no bearer token)."""
    await make_person(db, "petra@zeitung.example", "editor")
    signed_in = await client.post(
        "/v1/auth/session", json={"email": "petra@zeitung.example", "password": PASSWORD}
    )
    assert signed_in.status_code in (200, 201), signed_in.text
    response = await client.get(f"/v1/admin/articles/{article['id']}/distribution")
    assert response.status_code == 200, response.text
    client.cookies.clear()
    view: dict[str, Any] = response.json()["consumers"]["search"]
    return view


async def test_an_articles_parked_and_unsent_events_are_counted_with_the_oldest(
    settings: SystemSettings, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Distribution counts the article's unsent and parked events apart, with the oldest of each."""
    closed = f"http://127.0.0.1:{free_port()}"
    application = create_app(
        settings.model_copy(update={"search_url": closed, "social_url": closed, "ads_url": closed})
    )
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            draft = await create_draft(client, token["editor"])
            other = await create_draft(client, token["editor"], title="Anderer Artikel")
            await patch(client, token["editor"], draft, lead="zwei")
            await db.execute(
                "UPDATE outbox SET parked_at = now(), parked_reason = 'test' "
                "WHERE article_id = $1 AND article_version = 1",
                draft["id"],
            )
            seen = await distribution(client, token["editor"], draft)
            theirs = await distribution(client, token["editor"], other)

    created = await db.fetchval(
        "SELECT created_at FROM outbox WHERE article_id = $1 AND article_version = 1", draft["id"]
    )
    updated = await db.fetchval(
        "SELECT created_at FROM outbox WHERE article_id = $1 AND article_version = 2", draft["id"]
    )
    assert (seen["outbox"]["unsent"], seen["outbox"]["parked"]) == (1, 1)
    assert datetime.fromisoformat(seen["outbox"]["oldest_parked_at"]) == created
    assert datetime.fromisoformat(seen["outbox"]["oldest_unsent_at"]) == updated
    assert (theirs["outbox"]["unsent"], theirs["outbox"]["parked"]) == (1, 0)
