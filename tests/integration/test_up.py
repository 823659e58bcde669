"""`cms up`: the whole system in one process, on one port."""

from __future__ import annotations

import httpx2

from cms.system import SystemSettings, everything
from consumers.registry import CONSUMERS
from tests.helpers import bearer, create_draft, eventually, fixture, publish
from tests.integration.consumers.helpers import delete_consumer_queues, is_ready


async def test_cms_up_serves_the_api_and_every_consumer_and_a_published_article_reaches_them(
    consumer_settings: SystemSettings, token: dict[str, str]
) -> None:
    """`cms up` is ready on every check, and one published article is found, posted and given ad slots."""
    application = everything(consumer_settings)
    try:
        async with application.router.lifespan_context(application):
            transport = httpx2.ASGITransport(app=application)
            async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
                await eventually(lambda: is_ready(client), within=30)
                checks = (await client.get("/readyz")).json()["checks"]
                article = await publish(
                    client,
                    token["editor"],
                    await create_draft(client, token["editor"], **fixture("article-stabschefs.de.json")),
                )
                await eventually(lambda: _found(client, "Stabschef"), within=15)
                posts_url = f"/v1/social/posts?article={article['id']}"
                await eventually(lambda: _has_items(client, posts_url, token["editor"]), within=15)
                slots = await client.get(f"/v1/ads/articles/{article['id']}/slots")
                posts = await client.get(posts_url, headers=bearer(token["editor"]))
                metrics = (await client.get("/metrics")).text
    finally:
        for spec in CONSUMERS.values():
            await delete_consumer_queues(consumer_settings, spec.queue(consumer_settings))

    assert set(checks) == {"database", "relay", "scheduler", "event-log-pruner", *CONSUMERS}
    assert all(checks.values())
    assert slots.status_code == 200
    assert posts.status_code == 200
    assert posts.json()["items"]
    for name in CONSUMERS:
        assert f'cms_consumer_consuming{{consumer="{name}"}} 1.0' in metrics


async def _found(client: httpx2.AsyncClient, q: str) -> bool:
    response = await client.get("/v1/search", params={"q": q})
    return bool(response.status_code == 200 and response.json()["items"])


async def _has_items(client: httpx2.AsyncClient, url: str, token: str) -> bool:
    response = await client.get(url, headers=bearer(token))
    return bool(response.status_code == 200 and response.json()["items"])
