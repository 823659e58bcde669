"""The webhooks consumer against a real receiver: what is sent, to whom, signed how; retries,
410, Retry-After and the retry window; the delivery log, redelivery and replay; the secret's
rotation; and the targets it refuses, also when DNS changes its answer at connect time."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx2
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from cms.system import SystemSettings
from tests.helpers import bearer, eventually
from tests.integration.consumers.webhooks.helpers import (
    attempts,
    live_article,
    quick,
    running_webhooks,
    subscribe,
    subscription_state,
)
from tests.integration.consumers.webhooks.receiver import receiving
from tests.integration.events.helpers import RelayStarter


async def test_a_publish_is_posted_as_the_signed_cloudevent_and_unwanted_types_are_not(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    webhook_settings: SystemSettings,
    running_relay: RelayStarter,
) -> None:
    """The receiver gets the CloudEvent as JSON with a webhook-id, timestamp and a signature that
    standardwebhooks verifies; a created event it did not subscribe to never arrives."""
    async with running_relay(), receiving() as receiver, running_webhooks(webhook_settings) as hooks:
        created = await subscribe(hooks, token["admin"], receiver.url, event_types=["cms.article.published"])
        receiver.secrets = [created["secret"]]
        article = await live_article(api, token, title="Wahl in Berlin")

        await eventually(lambda: _count(receiver, 1))
        await asyncio.sleep(0.5)  # time for anything else to (wrongly) arrive

        assert created["secret"].startswith("whsec_")
        [got] = receiver.received
        assert got.verified
        assert Webhook(created["secret"]).verify(got.raw, got.headers) == got.body
        assert got.webhook_id.startswith("msg_")
        assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 30
        assert got.headers["content-type"] == "application/json"
        assert got.body["type"] == "cms.article.published"
        assert got.body["specversion"] == "1.0"
        assert got.body["subject"] == article["id"]
        assert got.body["data"]["title"] == "Wahl in Berlin"
        assert got.body["articleversion"] == article["version"]
        with_other_secret = Webhook("whsec_" + "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==")
        try:
            with_other_secret.verify(got.raw, got.headers)
            raise AssertionError("a signature verified with the wrong secret")
        except WebhookVerificationError:
            pass
        [logged] = await attempts(hooks, token["admin"], created)
        assert logged["status"] == 200
        assert logged["webhook_id"] == got.webhook_id
        assert logged["latency_ms"] >= 0
        assert '"ok"' in logged["response_excerpt"]


async def test_filters_by_section_language_and_tag_choose_what_a_subscription_gets(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    webhook_settings: SystemSettings,
    running_relay: RelayStarter,
) -> None:
    """Only articles of the subscribed section, language and one of its tags are sent; the rest never are."""
    async with running_relay(), receiving() as receiver, running_webhooks(webhook_settings) as hooks:
        created = await subscribe(
            hooks,
            token["admin"],
            receiver.url,
            event_types=["cms.article.published"],
            sections=["world"],
            languages=["en"],
            tags=["election", "vote"],
        )
        receiver.secrets = [created["secret"]]
        wanted = await live_article(api, token, title="Vote", language="en", section="world", tags=["vote"])
        await live_article(api, token, title="Sport", language="en", section="sport", tags=["vote"])
        await live_article(api, token, title="Wahl", language="de", section="world", tags=["vote"])
        await live_article(api, token, title="Weather", language="en", section="world", tags=["rain"])
        last = await live_article(
            api, token, title="Election", language="en", section="world", tags=["election"]
        )

        await eventually(lambda: _count(receiver, 2))
        await asyncio.sleep(0.5)

        assert [r.body["subject"] for r in receiver.received] == [wanted["id"], last["id"]]


async def test_private_loopback_link_local_and_metadata_targets_are_refused(
    token: dict[str, str], consumer_settings: SystemSettings
) -> None:
    """Without an allow-list, URLs that are or resolve to this machine, private networks or a
    cloud metadata address are a 422 naming the URL; a public address is accepted."""
    settings = quick(consumer_settings, webhooks_allowed_networks=[])
    refused = [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.100.100.200/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fd00:ec2::254]/hook",
        "http://0.0.0.0/hook",
        "ftp://93.184.216.34/hook",
        "http://user:pw@93.184.216.34/hook",
    ]
    async with running_webhooks(settings) as hooks:
        for url in refused:
            response = await hooks.post(
                "/v1/webhooks/subscriptions", json={"url": url}, headers=bearer(token["admin"])
            )
            assert response.status_code == 422, url
            assert response.json()["errors"][0]["loc"] == ["body", "url"]
        accepted = await subscribe(hooks, token["admin"], "https://93.184.216.34/hook")
        listed = await hooks.get("/v1/webhooks/subscriptions", headers=bearer(token["admin"]))

    assert [item["url"] for item in listed.json()["items"]] == [accepted["url"]]


async def test_a_name_that_resolves_to_loopback_at_connect_time_is_never_called(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    running_relay: RelayStarter,
) -> None:
    """DNS rebinding: a name that was public when the subscription was saved and points at
    127.0.0.1 when the worker connects is refused at connect time; the receiver there gets nothing."""
    answers: list[str] = []

    async def rebinding_dns(host: str, port: int) -> list[str]:
        answers.append(host)
        return ["93.184.216.34"] if len(answers) == 1 else ["127.0.0.1"]

    settings = quick(consumer_settings, webhooks_allowed_networks=[])
    async with running_relay(), receiving() as receiver, running_webhooks(settings, rebinding_dns) as hooks:
        created = await subscribe(hooks, token["admin"], f"http://hooks.example:{receiver.port}/hook")
        await live_article(api, token)

        async def refused_twice() -> bool:
            return len(await attempts(hooks, token["admin"], created)) >= 2

        await eventually(refused_twice)
        logged = await attempts(hooks, token["admin"], created)

    assert receiver.received == []
    assert all(a["status"] is None and "refused" in a["error"] and "127.0.0.1" in a["error"] for a in logged)
    assert answers[0] == "hooks.example"


async def test_retry_after_is_honoured_and_a_retry_repeats_the_webhook_id(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    webhook_settings: SystemSettings,
    running_relay: RelayStarter,
) -> None:
    """A 503 with Retry-After: 2 is tried again no sooner than 2 s later, with the same webhook-id;
    a 302 is a failure, never followed."""
    async with running_relay(), receiving() as receiver, running_webhooks(webhook_settings) as hooks:
        receiver.script = [
            (503, {"Retry-After": "2"}, "busy"),
            (302, {"Location": "http://127.0.0.1:9/x"}, ""),
        ]
        created = await subscribe(hooks, token["admin"], receiver.url, event_types=["cms.article.published"])
        receiver.secrets = [created["secret"]]
        await live_article(api, token)

        await eventually(lambda: _answered(receiver, 1), within=15)
        # The receiver has answered before the sender records the attempt: wait for the record.
        logged: list[dict[str, Any]] = []

        async def all_three_logged() -> bool:
            logged[:] = await attempts(hooks, token["admin"], created)
            return len(logged) >= 3

        await eventually(all_three_logged, within=5)

    first, second, third = receiver.received
    assert first.webhook_id == second.webhook_id == third.webhook_id
    assert second.at - first.at >= 2.0
    assert [a["status"] for a in reversed(logged)] == [503, 302, 200]
    assert "redirects are not followed" in logged[1]["error"]
    assert logged[2]["response_excerpt"] == "busy"


async def test_410_gone_disables_the_subscription_and_enabling_it_sends_what_waited(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    webhook_settings: SystemSettings,
    running_relay: RelayStarter,
) -> None:
    """A 410 disables the subscription with its reason and a metric; nothing is sent while it is
    disabled; enabled again, the waiting delivery goes out with its webhook-id."""
    async with running_relay(), receiving() as receiver, running_webhooks(webhook_settings) as hooks:
        receiver.script = [(410, {}, "gone")]
        created = await subscribe(hooks, token["admin"], receiver.url, event_types=["cms.article.published"])
        receiver.secrets = [created["secret"]]
        await live_article(api, token)

        async def disabled() -> bool:
            return not (await subscription_state(hooks, token["admin"], created))["enabled"]

        await eventually(disabled)
        state = await subscription_state(hooks, token["admin"], created)
        await asyncio.sleep(1.0)
        during = len(receiver.received)
        metrics = (await hooks.get("/metrics")).text
        enabled = await hooks.patch(
            f"/v1/webhooks/subscriptions/{created['id']}",
            json={"enabled": True},
            headers=bearer(token["admin"]),
        )
        await eventually(lambda: _answered(receiver, 1))

    assert state["disabled_reason"] == "the receiver answered 410 Gone"
    assert during == 1
    assert 'cms_webhook_subscriptions_disabled_total{reason="gone"} 1.0' in metrics
    assert enabled.json()["enabled"] is True
    assert receiver.received[0].webhook_id == receiver.received[1].webhook_id


async def test_failing_past_the_retry_window_disables_the_subscription_keeping_the_delivery(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    running_relay: RelayStarter,
) -> None:
    """A receiver that answers 500 beyond the retry window gets its subscription disabled with the
    reason; the delivery stays pending (nothing dropped) and tries stop."""
    settings = quick(consumer_settings, webhooks_retry_window=1.5)
    async with running_relay(), receiving() as receiver, running_webhooks(settings) as hooks:
        receiver.script = [(500, {}, "boom")] * 100
        created = await subscribe(hooks, token["admin"], receiver.url, event_types=["cms.article.published"])
        await live_article(api, token)

        async def disabled() -> bool:
            return not (await subscription_state(hooks, token["admin"], created))["enabled"]

        await eventually(disabled, within=15)
        tries = len(receiver.received)
        await asyncio.sleep(1.5)
        state = await subscription_state(hooks, token["admin"], created)
        pending = await hooks.get(
            f"/v1/webhooks/subscriptions/{created['id']}/deliveries?status=pending",
            headers=bearer(token["admin"]),
        )
        metrics = (await hooks.get("/metrics")).text

    assert tries >= 2
    assert len(receiver.received) == tries
    assert state["disabled_reason"].startswith("deliveries failed for")
    assert [d["last_status"] for d in pending.json()["items"]] == [500]
    assert 'cms_webhook_subscriptions_disabled_total{reason="retry_window"} 1.0' in metrics


async def test_a_slow_receiver_does_not_delay_another_subscription(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    running_relay: RelayStarter,
) -> None:
    """While one receiver takes 4 s per answer, the other subscription gets all 6 events within
    a second or two; the slow one has taken at most its concurrency's worth by then."""
    settings = quick(consumer_settings, webhooks_timeout=10.0, webhooks_concurrency=2)
    async with (
        running_relay(),
        receiving(delay=4.0) as slow,
        receiving() as fast,
        running_webhooks(settings) as hooks,
    ):
        slow_sub = await subscribe(hooks, token["admin"], slow.url, event_types=["cms.article.published"])
        fast_sub = await subscribe(hooks, token["admin"], fast.url, event_types=["cms.article.published"])
        slow.secrets, fast.secrets = [slow_sub["secret"]], [fast_sub["secret"]]
        started = time.monotonic()
        for n in range(6):
            await live_article(api, token, title=f"Story {n}")

        await eventually(lambda: _answered(fast, 6), within=10)
        fast_done = time.monotonic() - started
        slow_answered = len(slow.answered())
        slow_taken = len(slow.received)

    assert fast_done < 3.5
    assert slow_answered == 0
    assert slow_taken <= 2


async def test_redelivery_and_replay_resend_with_the_same_ids_and_fill_a_new_subscription(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    webhook_settings: SystemSettings,
    running_relay: RelayStarter,
) -> None:
    """Redelivering one delivery and replaying a time range send the same webhook-ids again in
    each article's order; a subscription made later gets the range's events by replay."""
    async with running_relay(), receiving() as receiver, running_webhooks(webhook_settings) as hooks:
        created = await subscribe(hooks, token["admin"], receiver.url, event_types=["cms.article.published"])
        receiver.secrets = [created["secret"]]
        since = "2000-01-01T00:00:00Z"
        first = await live_article(api, token, title="One")
        second = await live_article(api, token, title="Two")
        await eventually(lambda: _answered(receiver, 2))
        original = [r.webhook_id for r in receiver.received]
        deliveries = (
            await hooks.get(
                f"/v1/webhooks/subscriptions/{created['id']}/deliveries", headers=bearer(token["admin"])
            )
        ).json()["items"]

        again = await hooks.post(
            f"/v1/webhooks/deliveries/{deliveries[0]['id']}/redeliver", headers=bearer(token["admin"])
        )
        await eventually(lambda: _answered(receiver, 3))
        replay = await hooks.post(
            f"/v1/webhooks/subscriptions/{created['id']}/replay",
            json={"since": since},
            headers=bearer(token["admin"]),
        )
        await eventually(lambda: _answered(receiver, 5))

        late = await subscribe(hooks, token["admin"], receiver.url, event_types=["cms.article.published"])
        receiver.secrets.append(late["secret"])
        late_replay = await hooks.post(
            f"/v1/webhooks/subscriptions/{late['id']}/replay",
            json={"since": since},
            headers=bearer(token["admin"]),
        )
        await eventually(lambda: _answered(receiver, 7))
        unknown = await hooks.post(
            f"/v1/webhooks/deliveries/{uuid.uuid4()}/redeliver", headers=bearer(token["admin"])
        )

    assert all(r.answered for r in receiver.received)
    ids = [r.webhook_id for r in receiver.received]
    assert again.status_code == 200
    assert ids[2] == deliveries[0]["webhook_id"]
    assert replay.json() == {"queued": 2}
    assert sorted(ids[3:5]) == sorted(original)
    assert late_replay.json() == {"queued": 2}
    assert not set(ids[5:7]) & set(original)
    assert sorted(r.body["subject"] for r in receiver.received[5:7]) == sorted([first["id"], second["id"]])
    assert unknown.status_code == 404


async def test_the_secret_is_shown_once_and_rotation_signs_with_both_during_the_overlap(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    webhook_settings: SystemSettings,
    running_relay: RelayStarter,
) -> None:
    """Reads never show the secret; after a rotation a message verifies with the old and with the
    new secret; with no overlap left, only the new one verifies."""
    async with running_relay(), receiving() as receiver, running_webhooks(webhook_settings) as hooks:
        created = await subscribe(hooks, token["admin"], receiver.url, event_types=["cms.article.published"])
        old = created["secret"]
        shown = (
            await hooks.get(f"/v1/webhooks/subscriptions/{created['id']}", headers=bearer(token["admin"]))
        ).json()
        rotated = (
            await hooks.post(
                f"/v1/webhooks/subscriptions/{created['id']}/secret",
                json={"overlap_seconds": 3600},
                headers=bearer(token["admin"]),
            )
        ).json()
        new = rotated["secret"]
        await live_article(api, token, title="During the overlap")
        await eventually(lambda: _distinct(receiver, 1))
        await hooks.post(
            f"/v1/webhooks/subscriptions/{created['id']}/secret",
            json={"overlap_seconds": 0},
            headers=bearer(token["admin"]),
        )
        newest = (await hooks.get("/v1/webhooks/subscriptions", headers=bearer(token["admin"]))).json()
        await live_article(api, token, title="After it")
        await eventually(lambda: _distinct(receiver, 2))

    # A retry repeats its webhook-id (at least once, by design): judge each delivery's first arrival.
    during, after = _first_arrivals(receiver)
    assert "secret" not in shown
    assert all("secret" not in item for item in newest["items"])
    assert new != old
    assert new.startswith("whsec_")
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(during.raw, during.headers)["subject"] == during.body["subject"]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    try:
        Webhook(new).verify(after.raw, after.headers)
        raise AssertionError("the rotated-out secret still verifies")
    except WebhookVerificationError:
        pass


async def test_the_api_is_for_admins_only(token: dict[str, str], webhook_settings: SystemSettings) -> None:
    """Without a token 401, with an editor's 403, an unknown subscription 404; nothing is created."""
    async with running_webhooks(webhook_settings) as hooks:
        anonymous = await hooks.post("/v1/webhooks/subscriptions", json={"url": "https://93.184.216.34/"})
        editor = await hooks.post(
            "/v1/webhooks/subscriptions",
            json={"url": "https://93.184.216.34/"},
            headers=bearer(token["editor"]),
        )
        unknown = await hooks.get(
            f"/v1/webhooks/subscriptions/{uuid.uuid4()}", headers=bearer(token["admin"])
        )
        listed = await hooks.get("/v1/webhooks/subscriptions", headers=bearer(token["admin"]))

    assert (anonymous.status_code, editor.status_code, unknown.status_code) == (401, 403, 404)
    assert listed.json() == {"items": [], "next_cursor": None}


def _first_arrivals(receiver: Any) -> list[Any]:
    first: dict[str, Any] = {}
    for request in receiver.received:
        first.setdefault(request.webhook_id, request)
    return list(first.values())


async def _distinct(receiver: Any, n: int) -> bool:
    return len(_first_arrivals(receiver)) >= n


async def _count(receiver: Any, n: int) -> bool:
    return len(receiver.received) >= n


async def _answered(receiver: Any, n: int) -> bool:
    return len(receiver.answered()) >= n


async def test_a_receivers_answer_is_read_only_up_to_the_cap(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    running_relay: RelayStarter,
) -> None:
    """A 1 MB answer is read up to CMS_WEBHOOKS_RESPONSE_CAP bytes: the log keeps that much, no more."""
    settings = quick(consumer_settings, webhooks_response_cap=100)
    async with running_relay(), receiving() as receiver, running_webhooks(settings) as hooks:
        receiver.script = [(200, {}, "x" * 1_000_000)]
        created = await subscribe(hooks, token["admin"], receiver.url, event_types=["cms.article.published"])
        await live_article(api, token)

        async def logged() -> bool:
            return len(await attempts(hooks, token["admin"], created)) == 1

        await eventually(logged)
        [attempt] = await attempts(hooks, token["admin"], created)

    assert attempt["status"] == 200
    assert attempt["response_excerpt"] == "x" * 100
