"""The social consumer end to end, in-process, against fake Mastodon, Bluesky and a signed
webhook receiver: one post per article and channel, retractions, review, retries."""

from __future__ import annotations

import base64

import asyncpg
import httpx2
import orjson

from cms.system import SystemSettings
from consumers.social import SPEC as SOCIAL
from tests.helpers import action, bearer, create_draft, eventually, patch, publish
from tests.integration.consumers.helpers import outbox_events, send_to_queue
from tests.integration.consumers.social.fakes import BLUESKY_DID, Networks
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


async def _has(db: asyncpg.Connection[asyncpg.Record], article_id: str, expected: dict[str, str]) -> bool:
    try:
        return await statuses(db, article_id) == expected
    except asyncpg.UndefinedTableError:
        return False


# ---- posting ----


async def test_a_published_article_is_posted_once_to_every_channel(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A published article is posted once to Mastodon, Bluesky and the webhook, each with its link and key."""
    async with running_social(social_settings(consumer_settings, fakes)), running_relay():
        article = await published_fixture(api, token)
        await eventually(lambda: _has(db, article["id"], all_in("sent")), within=20)

    rows = await posts(db, article["id"])
    url = f"{PUBLIC_URL}/world/{article['slug']}"
    [status] = fakes.mastodon.statuses.values()
    assert status["content"] == rows["mastodon"]["text"]
    assert url in status["content"]
    assert rows["mastodon"]["remote_id"] == status["id"]
    assert rows["mastodon"]["remote_url"] == status["url"]
    [call] = fakes.mastodon.calls_to("/api/v1/statuses")
    assert call.headers["idempotency-key"] == rows["mastodon"]["idempotency_key"]

    [record] = fakes.bluesky.posts
    assert record["text"] == rows["bluesky"]["text"]
    assert record["embed"]["external"]["uri"] == url
    assert record["embed"]["external"]["title"] == article["title"]
    assert record["langs"] == ["de"]
    data = record["text"].encode()
    [link] = [f for f in record["facets"] if f["features"][0]["$type"].endswith("#link")]
    assert data[link["index"]["byteStart"] : link["index"]["byteEnd"]].decode() == url
    assert (
        rows["bluesky"]["remote_id"]
        == f"at://{BLUESKY_DID}/app.bsky.feed.post/{rows['bluesky']['idempotency_key']}"
    )

    [delivery] = fakes.webhook.published
    assert fakes.webhook.rejected == 0
    assert delivery["post"]["text"] == rows["bridge"]["text"]
    assert delivery["post"]["url"] == url
    for channel, row in rows.items():
        print(f"\n--- {channel} ---\n{row['text']}")


async def test_the_same_event_delivered_five_times_posts_once_per_channel(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """The same published event delivered ten times posts once per channel; the repeats are skipped."""
    settings = social_settings(consumer_settings, fakes)
    async with running_social(settings) as social:
        article = await published_fixture(api, token)
        created, published = await outbox_events(db, article["id"])
        await send_to_queue(SOCIAL.queue(settings), created, *[published] * 5)
        await eventually(lambda: _has(db, article["id"], all_in("sent")), within=20)
        await send_to_queue(SOCIAL.queue(settings), *[published] * 5)
        await eventually(lambda: _skipped(social, 9))

    assert fakes.mastodon.created == 1
    assert len(fakes.mastodon.calls_to("/api/v1/statuses")) == 1
    assert len(fakes.bluesky.posts) == 1
    assert fakes.bluesky.commits == 1
    assert len(fakes.webhook.published) == 1


async def _skipped(social: httpx2.AsyncClient, expected: int) -> bool:
    """The runtime counted `expected` redeliveries as already applied."""
    metrics = (await social.get("/metrics")).text
    return f'cms_consumer_handled_total{{consumer="social",outcome="skipped"}} {float(expected)}' in metrics


async def test_an_update_never_posts_again_unpublish_retracts_and_republishing_posts_anew(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """An edit posts nothing; unpublishing deletes the posts; publishing again posts anew with fresh keys."""
    async with running_social(social_settings(consumer_settings, fakes)), running_relay():
        article = await published_fixture(api, token)
        await eventually(lambda: _has(db, article["id"], all_in("sent")), within=20)
        first = await posts(db, article["id"])

        updated = (await patch(api, token["editor"], article, lead="Neuer Vorspann.")).json()
        await eventually(lambda: _version(db, article["id"], updated["version"]))
        assert fakes.mastodon.created == 1
        assert fakes.bluesky.commits == 1

        unpublished = (await action(api, token["editor"], updated, "unpublish")).json()
        await eventually(lambda: _has(db, article["id"], all_in("retracted")), within=20)
        assert fakes.mastodon.statuses == {}
        assert fakes.bluesky.posts == []
        assert len(fakes.webhook.retracted) == 1

        await publish(api, token["editor"], unpublished)
        await eventually(lambda: _has(db, article["id"], all_in("sent")), within=20)

    again = await posts(db, article["id"])
    assert fakes.mastodon.created == 2
    assert len(fakes.mastodon.statuses) == 1
    assert len(fakes.bluesky.posts) == 1
    assert len(fakes.webhook.published) == 2
    for channel in ("mastodon", "bluesky", "bridge"):
        assert again[channel]["generation"] == 2
        assert again[channel]["idempotency_key"] != first[channel]["idempotency_key"]
    assert "Neuer Vorspann." in again["mastodon"]["text"]


async def _version(db: asyncpg.Connection[asyncpg.Record], article_id: str, version: int) -> bool:
    found = await db.fetchval("SELECT version FROM social.applied_versions WHERE article_id = $1", article_id)
    return bool(found == version)


async def test_deleting_a_published_article_retracts_its_posts(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Deleting a live article deletes its Mastodon and Bluesky posts and tells the webhook."""
    async with running_social(social_settings(consumer_settings, fakes)), running_relay():
        article = await published_fixture(api, token)
        await eventually(lambda: _has(db, article["id"], all_in("sent")), within=20)
        await api.delete(
            f"/v1/admin/articles/{article['id']}",
            headers={**bearer(token["editor"]), "If-Match": f'"{article["version"]}"'},
        )
        await eventually(lambda: _has(db, article["id"], all_in("retracted")), within=20)

    assert fakes.mastodon.statuses == {}
    assert fakes.bluesky.posts == []
    [retraction] = fakes.webhook.retracted
    assert retraction["post"]["article_id"] == article["id"]


async def test_drafts_and_scheduled_articles_are_never_posted(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Drafts and scheduled articles get no post row and no network call; a published one does."""
    async with running_social(social_settings(consumer_settings, fakes)), running_relay():
        draft = await create_draft(api, token["editor"], title="Geheimer Entwurf")
        await patch(api, token["editor"], draft, lead="Noch geheimer")
        scheduled = await create_draft(api, token["editor"], title="Embargo bis 2099")
        await action(api, token["editor"], scheduled, "publish", {"publish_at": "2099-01-01T00:00:00Z"})
        marker = await publish(api, token["editor"], await create_draft(api, token["editor"], title="Marker"))
        await eventually(lambda: _has(db, marker["id"], all_in("sent")), within=20)
        await eventually(lambda: _version(db, scheduled["id"], 2))

    assert await db.fetchval("SELECT count(*) FROM social.posts WHERE article_id <> $1", marker["id"]) == 0
    assert fakes.mastodon.created == 1
    assert len(fakes.bluesky.posts) == 1
    assert len(fakes.webhook.published) == 1


# ---- review ----


async def test_review_mode_waits_for_an_editor_who_may_edit_the_text_within_the_limit(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """In review mode nothing posts until an editor approves; edited text must fit the network's limit."""
    async with running_social(social_settings(consumer_settings, fakes, mode="review")) as social:
        async with running_relay():
            article = await published_fixture(api, token)
            await eventually(lambda: _has(db, article["id"], all_in("ready")), within=20)
        assert fakes.mastodon.calls == []
        assert fakes.bluesky.calls == []
        assert fakes.webhook.calls == []

        listed = await social.get(
            "/v1/social/posts",
            params={"article": article["id"], "status": "ready"},
            headers=bearer(token["editor"]),
        )
        assert listed.status_code == 200, listed.text
        by_channel = {item["channel"]: item for item in listed.json()["items"]}
        assert set(by_channel) == {"mastodon", "bluesky", "bridge"}
        bluesky_id = by_channel["bluesky"]["id"]

        forbidden = await social.post(
            f"/v1/social/posts/{bluesky_id}/approve", headers=bearer(token["author"])
        )
        too_long = await social.post(
            f"/v1/social/posts/{bluesky_id}/approve",
            json={"text": "Zu lang " + "👩🏽‍💻" * 300},
            headers=bearer(token["editor"]),
        )
        edited_text = (
            f"Erstmals seit Kriegsbeginn: Stabschefs der USA und Russlands telefonieren 📞 {PUBLIC_URL}/x"
        )
        approved = await social.post(
            f"/v1/social/posts/{bluesky_id}/approve",
            json={"text": edited_text},
            headers=bearer(token["editor"]),
        )
        again = await social.post(f"/v1/social/posts/{bluesky_id}/approve", headers=bearer(token["editor"]))
        plain = await social.post(
            f"/v1/social/posts/{by_channel['mastodon']['id']}/approve", headers=bearer(token["editor"])
        )

    assert forbidden.status_code == 403
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["loc"] == ["body", "text"]
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "sent"
    assert approved.json()["edited_by"] == "eddie"
    [record] = fakes.bluesky.posts
    assert record["text"] == edited_text
    [link] = record["facets"]
    assert (
        edited_text.encode()[link["index"]["byteStart"] : link["index"]["byteEnd"]]
        == f"{PUBLIC_URL}/x".encode()
    )
    assert again.status_code == 409
    assert plain.json()["status"] == "sent"
    assert fakes.mastodon.created == 1
    assert (await statuses(db, article["id"]))["bridge"] == "ready"


async def test_with_no_channel_configured_posts_are_composed_and_kept_ready(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Without channels, posts are composed and kept ready, and approving one is a 409."""
    async with running_social(social_settings(consumer_settings, None)) as social, running_relay():
        article = await published_fixture(api, token)
        await eventually(
            lambda: _has(db, article["id"], all_in("ready", ("mastodon", "bluesky", "webhook"))), within=20
        )
        rows = await posts(db, article["id"])
        refused = await social.post(
            f"/v1/social/posts/{rows['mastodon']['id']}/approve", headers=bearer(token["editor"])
        )

    assert refused.status_code == 409
    assert all(article["title"] in row["text"] for row in rows.values())


# ---- failures ----


async def test_a_429_is_retried_no_sooner_than_retry_after_and_posts_once(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """After a 429 the next try waits at least Retry-After, and each network gets one post."""
    fakes.mastodon.script("post", "429:1")
    fakes.bluesky.script("post", "429:1")
    settings = social_settings(
        consumer_settings, fakes, consumer_retry_delays=(0.2, 1.5, 3.0), consumer_max_attempts=4
    )
    async with running_social(settings), running_relay():
        article = await published_fixture(api, token)
        await eventually(lambda: _has(db, article["id"], all_in("sent")), within=20)

    for fake, path in (
        (fakes.mastodon, "/api/v1/statuses"),
        (fakes.bluesky, "/xrpc/com.atproto.repo.putRecord"),
    ):
        first, second = fake.calls_to(path)
        assert second.at - first.at >= 1.0
    assert fakes.mastodon.created == 1
    assert len(fakes.bluesky.posts) == 1
    assert len(fakes.webhook.published) == 1


async def test_5xx_and_a_hanging_network_are_retried_with_the_same_key_and_post_once(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """5xx answers and hung calls are retried with the same idempotency key, so each network posts once."""
    fakes.mastodon.script("post", "500", "effect_then_hang")
    fakes.bluesky.script("post", "hang", "500")
    fakes.webhook.script("post", "effect_then_hang")
    async with running_social(social_settings(consumer_settings, fakes)), running_relay():
        article = await published_fixture(api, token)
        await eventually(lambda: _has(db, article["id"], all_in("sent")), within=25)

    calls = fakes.mastodon.calls_to("/api/v1/statuses")
    assert len(calls) == 3
    assert len({call.headers["idempotency-key"] for call in calls}) == 1
    assert fakes.mastodon.created == 1
    assert len(fakes.bluesky.posts) == 1
    assert len({c.body["rkey"] for c in fakes.bluesky.calls_to("/xrpc/com.atproto.repo.putRecord")}) == 1
    assert len(fakes.webhook.calls) == 2
    assert len(fakes.webhook.published) == 1
    assert (await posts(db, article["id"]))["mastodon"]["attempts"] == 3


async def test_a_refusal_marks_the_post_failed_with_the_reason_and_an_editor_can_retry(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """A 422 from the network fails the post with its reason, not retried, until an editor retries it."""
    fakes.mastodon.script("post", "422")
    async with running_social(social_settings(consumer_settings, fakes)) as social, running_relay():
        article = await published_fixture(api, token)
        expected = {**all_in("sent"), "mastodon": "failed"}
        await eventually(lambda: _has(db, article["id"], expected), within=20)
        failed = (await posts(db, article["id"]))["mastodon"]
        retried = await social.post(f"/v1/social/posts/{failed['id']}/retry", headers=bearer(token["editor"]))

    assert "Text character limit of 500 exceeded" in failed["last_error"]
    assert "422" in failed["last_error"]
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "sent"
    assert len(fakes.mastodon.calls_to("/api/v1/statuses")) == 2  # no automatic retry of a refusal
    assert fakes.mastodon.created == 1


# ---- listing ----


def _cursor_of(*parts: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([str(part) for part in parts])).decode().rstrip("=")


async def test_the_post_list_pages_with_the_shared_cursor_and_refuses_out_of_range_ones(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Paging follows next_cursor; a cursor whose time falls off the calendar in UTC is a 422."""
    editor = bearer(token["editor"])
    async with running_social(social_settings(consumer_settings, fakes, mode="review")) as social:
        async with running_relay():
            article = await published_fixture(api, token)
            await eventually(lambda: _has(db, article["id"], all_in("ready")), within=20)
        first = await social.get("/v1/social/posts", params={"limit": 2}, headers=editor)
        second = await social.get(
            "/v1/social/posts", params={"limit": 2, "cursor": first.json()["next_cursor"]}, headers=editor
        )
        refused = [
            await social.get("/v1/social/posts", params={"cursor": cursor}, headers=editor)
            for cursor in (
                _cursor_of("0001-01-01T00:00:00+05:00", article["id"]),
                _cursor_of("9999-12-31T23:59:59-05:00", article["id"]),
                _cursor_of("2026-01-01T00:00:00", article["id"]),
                base64.urlsafe_b64encode(f"0001-01-01T00:00:00+05:00|{article['id']}".encode()).decode(),
            )
        ]

    assert first.status_code == second.status_code == 200
    ids = [item["id"] for item in first.json()["items"] + second.json()["items"]]
    assert len(ids) == len(set(ids)) == 3
    assert second.json()["next_cursor"] is None
    for response in refused:
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert ["query", "cursor"] in [error["loc"] for error in response.json()["errors"]]
