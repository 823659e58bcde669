"""The Fastly and Cloudflare adapters against local fakes that check each API's protocol, and
the purge consumer driving them from real events."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx2
import pytest

from cms.system import SystemSettings
from consumers.purge import SPEC as PURGE
from consumers.purge.caches import Cloudflare, Fastly, PurgeFailed
from tests.helpers import action, create_draft, eventually, publish
from tests.integration.consumers.helpers import running_consumer
from tests.integration.consumers.purge.fake_cdn import SERVICE_ID, TOKEN, ZONE_ID, FakeCdn, fake_cdn
from tests.integration.events.helpers import RelayStarter

Record = asyncpg.Record
KEYS = [f"article:{n:04d}" for n in range(300)]


async def test_fastly_gets_surrogate_keys_soft_unless_hard_at_most_256_a_call() -> None:
    """300 keys go as two calls (256 + 44), soft with Fastly-Soft-Purge; a hard purge omits it."""
    async with fake_cdn() as cdn, httpx2.AsyncClient() as client:
        fastly = Fastly(cdn.url, SERVICE_ID, TOKEN)
        await fastly.purge(client, KEYS, hard=False)
        await fastly.purge(client, ["article:kill"], hard=True)

    assert cdn.refused == []
    assert [(len(p.keys), p.soft) for p in cdn.purges] == [(256, True), (44, True), (1, False)]
    assert cdn.keys("fastly") == {*KEYS, "article:kill"}


async def test_cloudflare_gets_tags_30_a_call_with_a_bearer_token() -> None:
    """65 tags go as three calls (30, 30, 5), each answered success: true."""
    async with fake_cdn() as cdn, httpx2.AsyncClient() as client:
        await Cloudflare(cdn.url, ZONE_ID, TOKEN).purge(client, KEYS[:65], hard=False)

    assert cdn.refused == []
    assert [len(p.keys) for p in cdn.purges] == [30, 30, 5]
    assert cdn.keys("cloudflare") == set(KEYS[:65])


async def test_a_refused_purge_raises_and_a_rate_limit_says_how_long_to_wait() -> None:
    """A wrong token is a failure naming the answer (nothing recorded as purged); a 429 carries
    its Retry-After for the worker's pause."""
    async with fake_cdn() as cdn, httpx2.AsyncClient() as client:
        with pytest.raises(PurgeFailed, match="403"):
            await Cloudflare(cdn.url, ZONE_ID, "wrong").purge(client, ["article:1"], hard=False)
        with pytest.raises(PurgeFailed, match="401"):
            await Fastly(cdn.url, SERVICE_ID, "wrong").purge(client, ["article:1"], hard=False)
        cdn.failures.append((429, {"Retry-After": "7"}))
        with pytest.raises(PurgeFailed) as limited:
            await Fastly(cdn.url, SERVICE_ID, TOKEN).purge(client, ["article:1"], hard=False)

    assert limited.value.retry_after == 7.0
    assert cdn.purges == []


async def test_the_consumer_purges_both_cdns_soft_on_publish_and_hard_on_kill_after_an_outage(
    consumer_settings: SystemSettings,
    running_relay: RelayStarter,
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
) -> None:
    """From real events: publishing purges the article and its lists on both CDNs (Fastly soft);
    a kill, first answered 503 by the CDN, is retried and then purged hard."""
    async with fake_cdn() as cdn:
        settings = consumer_settings.model_copy(
            update={
                "purge_fastly_service_id": SERVICE_ID,
                "purge_fastly_api_token": TOKEN,
                "purge_fastly_url": cdn.url,
                "purge_cloudflare_zone_id": ZONE_ID,
                "purge_cloudflare_api_token": TOKEN,
                "purge_cloudflare_url": cdn.url,
                "purge_backoff_max": 0.3,
            }
        )
        async with running_relay(), running_consumer(PURGE, settings):
            editor = token["editor"]
            story = await publish(
                api, editor, await create_draft(api, editor, title="Eilmeldung", section="world")
            )
            expected = {
                f"article:{story['id']}",
                "list:all",
                "list:language:de",
                "list:section:world",
                "sitemap",
            }
            await eventually(lambda: _has(cdn, "cloudflare", expected), within=15)
            await eventually(lambda: _has(cdn, "fastly", expected), within=15)
            assert all(p.soft for p in cdn.purges if p.api == "fastly")

            cdn.failures.append((503, {}))
            seen = len(cdn.purges)
            response = await action(api, editor, story, "kill", {"reason": "court order"})
            assert response.status_code == 200, response.text
            await eventually(lambda: _has(cdn, "fastly", expected, after=seen), within=15)
            await eventually(lambda: _has(cdn, "cloudflare", expected, after=seen), within=15)

    killed = [p for p in cdn.purges[seen:] if p.api == "fastly"]
    assert killed
    assert not any(p.soft for p in killed)
    assert cdn.refused == []
    assert cdn.failures == []  # the scripted 503 was answered, and the purge went again
    assert await db.fetchval("SELECT count(*) FROM purge.pending") == 0


async def _has(cdn: FakeCdn, api: str, keys: set[str], after: int = 0) -> bool:
    await asyncio.sleep(0)
    return keys <= {key for p in cdn.purges[after:] if p.api == api for key in p.keys}


async def test_a_burst_of_changes_is_coalesced_into_few_purge_requests(
    consumer_settings: SystemSettings,
    running_relay: RelayStarter,
    api: httpx2.AsyncClient,
    token: dict[str, str],
) -> None:
    """Ten stories published at once reach the CDN as a handful of requests (the window collects
    them), each key once per request, and every story's key is purged."""
    editor = token["editor"]
    stories = [
        await publish(api, editor, await create_draft(api, editor, title=f"Meldung {n}")) for n in range(10)
    ]
    wanted = {f"article:{story['id']}" for story in stories} | {"list:all", "list:language:de", "sitemap"}
    async with fake_cdn() as cdn:
        settings = consumer_settings.model_copy(
            update={
                "purge_fastly_service_id": SERVICE_ID,
                "purge_fastly_api_token": TOKEN,
                "purge_fastly_url": cdn.url,
                "purge_window": 0.5,
            }
        )
        async with running_consumer(PURGE, settings), running_relay():
            await eventually(lambda: _has(cdn, "fastly", wanted), within=15)

    assert len(cdn.purges) < len(stories)
    assert all(len(set(p.keys)) == len(p.keys) for p in cdn.purges)
    assert cdn.refused == []
