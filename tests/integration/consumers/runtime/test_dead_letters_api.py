"""`/v1/admin/dead-letters`: operators see each consumer's dead letters and why, and requeue them
over HTTP (the operators' page uses it); only admins may."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from cms.app import create_app
from cms.system import SystemSettings
from consumers import dlq_api
from consumers.search import SPEC as SEARCH
from tests.helpers import bearer, eventually
from tests.integration.consumers.helpers import send_to_queue


@pytest.fixture
async def ops_api(consumer_settings: SystemSettings) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_app(
        consumer_settings, extra_operations=dlq_api.operations(consumer_settings, {"search": SEARCH})
    )
    async with app.router.lifespan_context(app), httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://cms.test"
    ) as client:
        yield client


async def _dead(ops_api: httpx2.AsyncClient, admin: str, expected: int) -> bool:
    response = await ops_api.get("/v1/admin/dead-letters", headers=bearer(admin))
    return bool(response.status_code == 200 and response.json()["items"][0]["count"] == expected)


async def test_dead_letters_are_listed_with_their_reason_and_requeued_by_an_admin(
    search_app: httpx2.AsyncClient,
    ops_api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
) -> None:
    """Two poison messages show with why they died; requeue moves both back (and, still poison,
    they come back to the DLQ); an editor may do neither; an unknown consumer is a 404."""
    await send_to_queue(SEARCH.queue(consumer_settings), b"not json", b"{}")
    await eventually(lambda: _dead(ops_api, token["admin"], 2), within=15)

    listed = await ops_api.get("/v1/admin/dead-letters", headers=bearer(token["admin"]))
    refused = await ops_api.get("/v1/admin/dead-letters", headers=bearer(token["editor"]))
    refused_requeue = await ops_api.post(
        "/v1/admin/dead-letters/search/requeue", headers=bearer(token["editor"])
    )
    unknown = await ops_api.post("/v1/admin/dead-letters/nosuch/requeue", headers=bearer(token["admin"]))
    assert await _dead(ops_api, token["admin"], 2)  # neither refusal moved anything
    requeued = await ops_api.post("/v1/admin/dead-letters/search/requeue", headers=bearer(token["admin"]))
    await eventually(lambda: _dead(ops_api, token["admin"], 2), within=15)

    queue = listed.json()["items"][0]
    assert queue["consumer"] == "search"
    assert queue["count"] == 2
    assert len(queue["messages"]) == 2
    assert all(message["reason"] for message in queue["messages"])
    assert refused.status_code == 403
    assert refused_requeue.status_code == 403
    assert unknown.status_code == 404
    assert requeued.status_code == 200
    assert requeued.json() == {"consumer": "search", "moved": 2}
