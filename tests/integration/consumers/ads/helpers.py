"""The ads consumer in tests: run with its HTTP face in-process, events sent straight to its queue."""

from __future__ import annotations

import contextlib
from typing import Any

import asyncpg
import httpx2

from cms.system import SystemSettings
from consumers.ads import SPEC as ADS
from tests.helpers import bearer
from tests.integration.consumers.helpers import running_consumer, send_to_queue


def running_ads(settings: SystemSettings) -> contextlib.AbstractAsyncContextManager[httpx2.AsyncClient]:
    """The ads consumer as `cms-consumer ads` runs it: worker plus its HTTP face."""
    return running_consumer(ADS, settings)


send = send_to_queue


async def slots_of(ads: httpx2.AsyncClient, article_id: str) -> httpx2.Response:
    return await ads.get(f"/v1/ads/articles/{article_id}/slots")


async def slot_ids(ads: httpx2.AsyncClient, article_id: str) -> dict[str, str]:
    """key -> id of the article's active slots (empty when it has none)."""
    response = await slots_of(ads, article_id)
    if response.status_code == 404:
        return {}
    assert response.status_code == 200, response.text
    return {slot["key"]: slot["id"] for slot in response.json()["slots"]}


async def applied(db: asyncpg.Connection[asyncpg.Record], article_id: str) -> int | None:
    version: int | None = await db.fetchval(
        "SELECT version FROM ads.applied_versions WHERE article_id = $1", article_id
    )
    return version


async def inventory(ads: httpx2.AsyncClient, token: str, **params: str) -> dict[str, Any]:
    response = await ads.get("/v1/ads/inventory", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report
