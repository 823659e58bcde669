"""Corrections and kills on social: a correction goes out once per channel as a reply to the
article's post (never a new post), and a kill retracts the posts and their replies."""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
import httpx2

from cms.system import SystemSettings
from consumers.social import SPEC as SOCIAL
from tests.helpers import action, create_draft, eventually, fixture
from tests.integration.consumers.helpers import outbox_events, send_to_queue
from tests.integration.consumers.social.fakes import BLUESKY_DID, Networks, cid_of
from tests.integration.consumers.social.helpers import (
    PUBLIC_URL,
    all_in,
    posts,
    published_fixture,
    running_social,
    social_settings,
    statuses,
)
from tests.integration.events.helpers import RelayStarter

Db: TypeAlias = "asyncpg.Connection[asyncpg.Record]"
NOTE = "In einer früheren Fassung stand, das Treffen sei in Kiew gewesen. Es fand in Genf statt."


async def _replies(db: Db, article_id: str) -> dict[str, asyncpg.Record]:
    try:
        rows = await db.fetch("SELECT * FROM social.corrections WHERE article_id = $1", article_id)
    except asyncpg.UndefinedTableError:
        return {}
    return {row["channel"]: row for row in rows}


async def _reply_statuses(db: Db, article_id: str) -> dict[str, str]:
    return {channel: row["status"] for channel, row in (await _replies(db, article_id)).items()}


async def _posts_are(db: Db, article_id: str, expected: dict[str, str]) -> bool:
    try:
        return await statuses(db, article_id) == expected
    except asyncpg.UndefinedTableError:
        return False


async def _correct(api: httpx2.AsyncClient, token: dict[str, str], article: dict[str, Any]) -> dict[str, Any]:
    response = await action(api, token["editor"], article, "corrections", {"note": NOTE})
    assert response.status_code == 200, response.text
    corrected: dict[str, Any] = response.json()
    return corrected


async def test_a_correction_is_a_reply_to_the_post_on_every_channel_once_under_redelivery(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    db: Db,
) -> None:
    """The corrected event five times, the first reply cut off after taking effect: one reply per channel."""
    settings = social_settings(consumer_settings, fakes)
    queue = SOCIAL.queue(settings)
    async with running_social(settings):
        article = await published_fixture(api, token)
        await send_to_queue(queue, *await outbox_events(db, article["id"]))
        await eventually(lambda: _posts_are(db, article["id"], all_in("sent")), within=20)
        # The first reply takes effect, then the answer never comes (a crash between the call
        # and our record of it): the message must come back and repeat it with the same key.
        fakes.mastodon.script("post", "effect_then_hang")
        fakes.bluesky.script("post", "effect_then_hang")
        fakes.webhook.script("post", "effect_then_hang")
        await _correct(api, token, article)
        *_, corrected = await outbox_events(db, article["id"])
        await send_to_queue(queue, *[corrected] * 5)
        await eventually(lambda: _all_replies_sent(db, article["id"]), within=30)
        fakes.mastodon.release.set()
        fakes.bluesky.release.set()
        fakes.webhook.release.set()

    rows = await posts(db, article["id"])
    replies = await _replies(db, article["id"])
    url = f"{PUBLIC_URL}/world/{article['slug']}"

    original = fakes.mastodon.statuses[rows["mastodon"]["remote_id"]]
    assert original["in_reply_to_id"] is None
    assert len(fakes.mastodon.statuses) == 2  # the post and one reply: never a second top-level post
    [reply] = [s for s in fakes.mastodon.statuses.values() if s["id"] != original["id"]]
    assert reply["in_reply_to_id"] == original["id"]
    assert reply["content"] == f"Korrektur: {NOTE}\n\n{url}"
    assert fakes.mastodon.created == 2
    tries = [c for c in fakes.mastodon.calls_to("/api/v1/statuses") if c.body.get("in_reply_to_id")]
    assert len(tries) >= 2  # the cut-off reply was repeated, with the same key, to no new status
    keys = {c.headers["idempotency-key"] for c in fakes.mastodon.calls_to("/api/v1/statuses")}
    assert keys == {rows["mastodon"]["idempotency_key"], replies["mastodon"]["idempotency_key"]}
    assert replies["mastodon"]["remote_id"] == reply["id"]

    assert len(fakes.bluesky.posts) == 2
    post_key = rows["bluesky"]["idempotency_key"]
    post_record = fakes.bluesky.records[("app.bsky.feed.post", post_key)]
    reply_record = fakes.bluesky.records[("app.bsky.feed.post", replies["bluesky"]["idempotency_key"])]
    parent = {"uri": f"at://{BLUESKY_DID}/app.bsky.feed.post/{post_key}", "cid": cid_of(post_record)}
    assert reply_record["reply"] == {"root": parent, "parent": parent}
    assert "reply" not in post_record
    assert reply_record["text"] == f"Korrektur: {NOTE}\n\n{url}"
    assert fakes.bluesky.commits == 2  # the repeated putRecord of the same reply changed nothing

    [notice] = fakes.webhook.corrected
    assert notice["correction"]["in_reply_to"] == rows["bridge"]["idempotency_key"]
    assert notice["correction"]["text"] == f"Korrektur: {NOTE}\n\n{url}"
    assert len(fakes.webhook.published) == 1


async def _all_replies_sent(db: Db, article_id: str) -> bool:
    return await _reply_statuses(db, article_id) == all_in("sent")


async def test_a_correction_before_the_post_went_out_gets_no_reply_even_after_approval(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: Db,
) -> None:
    """In review mode a correction is recorded as skipped: no reply and no post, and none later."""
    async with running_social(social_settings(consumer_settings, fakes, mode="review")), running_relay():
        article = await published_fixture(api, token)
        await eventually(lambda: _posts_are(db, article["id"], all_in("ready")), within=20)
        corrected = await _correct(api, token, article)
        await eventually(lambda: _all_replies_are(db, article["id"], "skipped"), within=20)
        await action(api, token["editor"], corrected, "corrections", {"note": "Noch eine."})
        await eventually(lambda: _reply_count(db, article["id"], 6), within=20)

    assert await statuses(db, article["id"]) == all_in("ready")
    assert fakes.mastodon.statuses == {}
    assert fakes.bluesky.posts == []
    assert fakes.webhook.deliveries == {}


async def _all_replies_are(db: Db, article_id: str, status: str) -> bool:
    return await _reply_statuses(db, article_id) == all_in(status)


async def _reply_count(db: Db, article_id: str, expected: int) -> bool:
    found: int = await db.fetchval(
        "SELECT count(*) FROM social.corrections WHERE article_id = $1", article_id
    )
    return found == expected


async def test_a_kill_retracts_the_posts_and_their_correction_replies(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: Db,
) -> None:
    """Killing a corrected article deletes its posts and replies on every network; nothing new is posted."""
    async with running_social(social_settings(consumer_settings, fakes)), running_relay():
        article = await published_fixture(api, token)
        await eventually(lambda: _posts_are(db, article["id"], all_in("sent")), within=20)
        corrected = await _correct(api, token, article)
        await eventually(lambda: _all_replies_sent(db, article["id"]), within=20)
        response = await action(api, token["editor"], corrected, "kill", {"reason": "einstweilige Verfügung"})
        assert response.status_code == 200, response.text
        await eventually(lambda: _posts_are(db, article["id"], all_in("retracted")), within=20)
        await eventually(lambda: _all_replies_are(db, article["id"], "retracted"), within=20)

    assert fakes.mastodon.statuses == {}
    assert fakes.bluesky.posts == []
    assert fakes.mastodon.created == 2
    assert len(fakes.webhook.retracted) == 1
    assert [d["type"] for d in fakes.webhook.deliveries.values()].count("social.correction.retracted") == 1
    assert len(fakes.webhook.published) == 1


async def test_a_kill_withdraws_a_post_still_waiting_for_review(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: Db,
) -> None:
    """A kill withdraws a post in review, so no editor can approve it later; the network hears nothing."""
    async with running_social(social_settings(consumer_settings, fakes, mode="review")), running_relay():
        article = await published_fixture(api, token)
        await eventually(lambda: _posts_are(db, article["id"], all_in("ready")), within=20)
        await action(api, token["editor"], article, "kill", {"reason": "Persönlichkeitsrecht"})
        await eventually(lambda: _posts_are(db, article["id"], all_in("retracted")), within=20)

    assert fakes.mastodon.calls == []
    assert fakes.bluesky.calls == []
    assert fakes.webhook.calls == []


async def test_compose_only_channels_record_no_correction_replies(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: Db,
) -> None:
    """Compose-only channels (no URL) keep posts ready and record no correction replies."""
    settings = social_settings(consumer_settings, None)
    async with running_social(settings), running_relay():
        draft = await create_draft(api, token["editor"], **fixture("article-stabschefs.de.json"))
        article = (await action(api, token["editor"], draft, "publish")).json()
        await eventually(
            lambda: _posts_are(db, article["id"], all_in("ready", ("mastodon", "bluesky", "webhook")))
        )
        await _correct(api, token, article)
        await eventually(lambda: _social_applied(db, article["id"], article["version"] + 1), within=20)

    assert await _replies(db, article["id"]) == {}


async def _social_applied(db: Db, article_id: str, version: int) -> bool:
    found = await db.fetchval("SELECT version FROM social.applied_versions WHERE article_id = $1", article_id)
    return bool(found == version)
