"""The social consumer as operators run it (`cms-consumer social` processes): killed between
the network call and its record, and two processes on one queue; still one post each."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx2
import pytest

from cms.system import SystemSettings
from consumers.social import SPEC
from tests.helpers import create_draft, eventually, free_port, publish
from tests.integration.consumers.helpers import delete_consumer_queues, outbox_events, send_to_queue
from tests.integration.consumers.social.fakes import Networks
from tests.integration.consumers.social.helpers import (
    PUBLIC_URL,
    all_in,
    posts,
    published_fixture,
    statuses,
)
from tests.services import AMQP_URL


@pytest.fixture
async def env(consumer_settings: SystemSettings, fakes: Networks) -> AsyncIterator[dict[str, str]]:
    yield {
        "PATH": os.environ.get("PATH", ""),
        "CMS_DATABASE_URL": consumer_settings.database_url,
        "CMS_AMQP_URL": AMQP_URL,
        "CMS_AMQP_PREFIX": consumer_settings.amqp_prefix,
        "CMS_PUBLIC_URL": PUBLIC_URL,
        "CMS_SOCIAL_CHANNELS": json.dumps(fakes.channels()),
        "CMS_SOCIAL_HTTP_TIMEOUT": "30",
        "CMS_CONSUMER_RETRY_DELAYS": "[0.2, 0.4]",
        "CMS_LOG_FORMAT": "json",
        "CMS_LOG_LEVEL": "warning",
    }
    await delete_consumer_queues(consumer_settings, SPEC.queue(consumer_settings))


async def _start(env: dict[str, str]) -> asyncio.subprocess.Process:
    port = str(free_port())
    command = str(Path(sys.executable).parent / "cms-consumer")
    process = await asyncio.create_subprocess_exec(
        command,
        "social",
        env={**env, "CMS_SOCIAL_PORT": port},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with httpx2.AsyncClient() as client:
        await eventually(lambda: _answers_200(client, f"http://127.0.0.1:{port}/readyz"), within=20)
    return process


async def _answers_200(client: httpx2.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url)).status_code == 200
    except httpx2.TransportError:
        return False


async def _stop(process: asyncio.subprocess.Process, sig: signal.Signals = signal.SIGTERM) -> None:
    if process.returncode is None:
        process.send_signal(sig)
    await asyncio.wait_for(process.wait(), timeout=30)


async def _effects_done(fakes: Networks) -> bool:
    return fakes.mastodon.created == 1 and fakes.bluesky.commits == 1 and len(fakes.webhook.published) == 1


async def test_a_consumer_killed_between_the_network_call_and_its_record_never_posts_twice(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    env: dict[str, str],
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Killed after the network acted but before recording it, the consumer's retry posts nothing twice."""
    # Each network does the work, then never answers: the consumer dies waiting.
    for fake in (fakes.mastodon, fakes.bluesky, fakes.webhook):
        fake.script("post", "effect_then_hang")
    article = await published_fixture(api, token)
    first = await _start(env)
    try:
        await send_to_queue(SPEC.queue(consumer_settings), *await outbox_events(db, article["id"]))
        await eventually(lambda: _effects_done(fakes), within=20)
        claimed = await statuses(db, article["id"])
    finally:
        await _stop(first, signal.SIGKILL)

    second = await _start(env)
    try:
        await eventually(lambda: _all_sent(db, article["id"]), within=30)
    finally:
        await _stop(second)

    assert claimed == all_in("sending")  # the claim was committed before the call
    rows = await posts(db, article["id"])
    calls = fakes.mastodon.calls_to("/api/v1/statuses")
    assert len(calls) == 2
    assert {call.headers["idempotency-key"] for call in calls} == {rows["mastodon"]["idempotency_key"]}
    assert fakes.mastodon.created == 1
    assert rows["mastodon"]["remote_id"] == next(iter(fakes.mastodon.statuses))
    puts = fakes.bluesky.calls_to("/xrpc/com.atproto.repo.putRecord")
    assert len(puts) == 2
    assert {call.body["rkey"] for call in puts} == {rows["bluesky"]["idempotency_key"]}
    assert len(fakes.bluesky.posts) == 1
    assert fakes.bluesky.commits == 1  # the second put wrote the very same record
    assert len(fakes.webhook.calls) == 2
    assert len(fakes.webhook.published) == 1  # same webhook-id: the receiver kept one


async def _all_sent(db: asyncpg.Connection[asyncpg.Record], article_id: str) -> bool:
    return await statuses(db, article_id) == all_in("sent")


async def _every_one_sent(db: asyncpg.Connection[asyncpg.Record], article_ids: list[str]) -> bool:
    for article_id in article_ids:
        if not await _all_sent(db, article_id):
            return False
    return True


async def test_two_consumer_processes_on_one_queue_post_once_per_article_and_channel(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    env: dict[str, str],
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Two processes sharing a queue, each event sent thrice: one post per article and channel."""
    articles = [
        await publish(api, token["editor"], await create_draft(api, token["editor"], title=f"Meldung {n}"))
        for n in range(6)
    ]
    events = [body for article in articles for body in await outbox_events(db, article["id"])]
    processes = [await _start(env), await _start(env)]
    try:
        # Every event three times, spread over both processes.
        await send_to_queue(SPEC.queue(consumer_settings), *events, *events, *events)
        await eventually(lambda: _every_one_sent(db, [article["id"] for article in articles]), within=30)
        await asyncio.sleep(1.0)  # let any duplicate still in flight land
    finally:
        for process in processes:
            await _stop(process)

    assert fakes.mastodon.created == 6
    assert len(fakes.mastodon.statuses) == 6
    assert len(fakes.bluesky.posts) == 6
    assert fakes.bluesky.commits == 6
    assert len(fakes.webhook.published) == 6
    assert await db.fetchval("SELECT count(*) FROM social.posts WHERE status = 'sent'") == 18
