"""The consumers' endpoints (search, social, ads, webhooks), fuzzed from `cms up`'s own OpenAPI document."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import schemathesis
from schemathesis.python import asgi as schemathesis_asgi
from starlette.applications import Starlette

from cms.system import SystemSettings, everything
from consumers.registry import CONSUMERS
from tests.helpers import create_draft, fixture, publish
from tests.integration.consumers.helpers import delete_consumer_queues
from tests.integration.fuzz import fuzz


@pytest.fixture
async def seeded(api: httpx2.AsyncClient, token: dict[str, str]) -> dict[str, str]:
    draft = await create_draft(api, token["author"], **fixture("article-stabschefs.de.json"))
    live = await publish(api, token["editor"], await create_draft(api, token["author"], title="Live"))
    return {"draft_id": draft["id"], "live_id": live["id"], "live_slug": live["slug"]}


@pytest.fixture
def whole_system(consumer_settings: SystemSettings, seeded: dict[str, str]) -> Iterator[Starlette]:
    yield everything(consumer_settings)
    schemathesis_asgi.shutdown_lifespans()


@pytest.fixture
async def consumer_schema(whole_system: Starlette, consumer_settings: SystemSettings) -> Any:
    yield schemathesis.openapi.from_asgi("/openapi.json", whole_system).include(
        path_regex=r"^/v1/(search|social|ads|webhooks)"
    )
    for spec in CONSUMERS.values():
        await delete_consumer_queues(consumer_settings, spec.queue(consumer_settings))


def test_no_input_to_a_consumer_endpoint_gets_a_5xx_or_an_undocumented_status(
    consumer_schema: Any, token: dict[str, str], seeded: dict[str, str]
) -> None:
    """Generated input to any consumer endpoint (webhooks too) never gets a 5xx or an unlisted status."""
    _wait_until_consumers_open(consumer_schema, token["admin"])
    outcome = fuzz(consumer_schema, {"Authorization": f"Bearer {token['admin']}"}, seeded, minimum=5)

    assert outcome.failures == [], outcome.report()
    fuzzed = {label.split()[1] for label in outcome.seen}
    assert {"/v1/search", "/v1/social/posts", "/v1/ads/inventory", "/v1/ads/articles/{id}/slots"} <= fuzzed
    assert {"/v1/webhooks/subscriptions", "/v1/webhooks/subscriptions/{id}/replay"} <= fuzzed


def _wait_until_consumers_open(schema: Any, token: str, within: float = 30.0) -> None:
    """Until its store is open a consumer answers 503 (documented, but a 5xx all the same):
    start the system (schemathesis runs its lifespan on the first call) and wait for that."""
    headers = {"Authorization": f"Bearer {token}"}
    probes = [
        schema["/v1/search"]["GET"].Case(query={"q": "x"}),
        schema["/v1/social/posts"]["GET"].Case(headers=headers),
        schema["/v1/ads/inventory"]["GET"].Case(headers=headers),
        schema["/v1/webhooks/subscriptions"]["GET"].Case(headers=headers),
    ]
    deadline = time.monotonic() + within
    for probe in probes:
        while probe.call().status_code >= 500:
            assert time.monotonic() < deadline, f"{probe.path} did not open its store"
            time.sleep(0.1)
