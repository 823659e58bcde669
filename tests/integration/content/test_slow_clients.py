"""A client that sends its body slowly holds no database connection meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx2
import orjson
import pytest

from cms.app import create_app
from cms.system import SystemSettings
from tests.helpers import bearer, create_draft


def _slow_body(first: bytes, rest: bytes, release: asyncio.Event) -> AsyncIterator[bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        yield first
        await release.wait()
        yield rest

    return chunks()


@pytest.mark.parametrize("method", ["POST create", "PATCH", "POST publish", "POST token"])
async def test_other_requests_are_served_while_a_body_is_still_arriving(
    settings: SystemSettings, token: dict[str, str], method: str
) -> None:
    """With a pool of one connection, a half-sent body does not stall the next request."""
    app = create_app(settings.model_copy(update={"pool_min_size": 1, "pool_max_size": 1}))
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as api:
            draft = await create_draft(api, token["editor"])
            body = orjson.dumps({"title": "Langsam", "language": "de"})
            target = {
                "POST create": ("POST", "/v1/admin/articles", {}, body),
                "PATCH": ("PATCH", f"/v1/admin/articles/{draft['id']}", {"If-Match": '"1"'}, body),
                "POST publish": ("POST", f"/v1/admin/articles/{draft['id']}/publish", {}, b"{}"),
                "POST token": ("POST", "/v1/admin/tokens", {}, b'{"name": "bot", "role": "author"}'),
            }[method]
            verb, path, extra, payload = target
            who = token["admin"] if method == "POST token" else token["editor"]
            release = asyncio.Event()
            slow = asyncio.create_task(
                api.request(
                    verb,
                    path,
                    content=_slow_body(payload[:5], payload[5:], release),
                    headers={**bearer(who), **extra, "Content-Type": "application/json"},
                )
            )
            await asyncio.sleep(0.3)  # the slow request is authenticated and waits for its body

            try:
                listed = await asyncio.wait_for(
                    api.get("/v1/admin/articles", headers=bearer(token["editor"])), timeout=5
                )
                assert not slow.done()
            finally:
                release.set()  # whatever happened, let the slow request end so the pool can close
            finished = await asyncio.wait_for(slow, timeout=5)

    assert listed.status_code == 200
    assert finished.status_code in (200, 201), finished.text
