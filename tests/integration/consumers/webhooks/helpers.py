"""The webhooks consumer in tests: settings that retry quickly and may call 127.0.0.1, the
consumer running with a stand-in DNS when a test needs one, and helpers that speak its API."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx2

from cms.system import SystemSettings
from consumers.webhooks import SPEC as WEBHOOKS
from consumers.webhooks import bind
from consumers.webhooks.handler import Webhooks
from consumers.webhooks.safety import Resolver
from tests.helpers import bearer, create_draft, publish
from tests.integration.consumers.helpers import running_consumer

LOOPBACK_ALLOWED = ["127.0.0.0/8"]


def quick(settings: SystemSettings, **overrides: Any) -> SystemSettings:
    """Retries within seconds, not hours; 127.0.0.1 allowed unless a test says otherwise."""
    values: dict[str, Any] = {
        "webhooks_allowed_networks": LOOPBACK_ALLOWED,
        "webhooks_backoff_initial": 0.2,
        "webhooks_backoff_max": 1.0,
        "webhooks_timeout": 3.0,
        "webhooks_poll_interval": 0.2,
        **overrides,
    }
    return settings.model_copy(update=values)


@contextlib.asynccontextmanager
async def running_webhooks(
    settings: SystemSettings, resolver: Resolver | None = None
) -> AsyncIterator[httpx2.AsyncClient]:
    """`cms-consumer webhooks`, its API as a client; with `resolver` standing in for DNS."""
    spec = WEBHOOKS
    if resolver is not None:
        spec = dataclasses.replace(WEBHOOKS, bind=lambda s: bind(Webhooks(s, resolver=resolver)))
    async with running_consumer(spec, settings) as client:
        yield client


async def subscribe(client: httpx2.AsyncClient, token: str, url: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhooks/subscriptions", json={"url": url, **fields}, headers=bearer(token)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def attempts(
    client: httpx2.AsyncClient, token: str, subscription: dict[str, Any]
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/v1/webhooks/subscriptions/{subscription['id']}/attempts?limit=100", headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def subscription_state(
    client: httpx2.AsyncClient, token: str, subscription: dict[str, Any]
) -> dict[str, Any]:
    response = await client.get(f"/v1/webhooks/subscriptions/{subscription['id']}", headers=bearer(token))
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


async def live_article(api: httpx2.AsyncClient, token: dict[str, str], **fields: Any) -> dict[str, Any]:
    """A draft by the author, published by the editor."""
    return await publish(api, token["editor"], await create_draft(api, token["author"], **fields))
