"""The whole API fuzzed from its own OpenAPI document: no input makes it fail or go off-script.

Schemathesis generates valid and invalid requests for every operation in `/openapi.json` and
sends them to the real application (in process, over ASGI; schemathesis runs its lifespan).
Two properties are checked for each answer: it is not a 5xx, and its status is one the
document lists for that operation.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx2
import pytest
import schemathesis
from schemathesis.python import asgi as schemathesis_asgi
from starlette.applications import Starlette

from cms.app import create_app
from cms.system import SystemSettings
from tests.helpers import bearer, create_draft, fixture, free_port, publish
from tests.integration.fuzz import fuzz


@pytest.fixture
async def seeded(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> dict[str, str]:
    """A draft, a published article and a user (not the fuzzing admin), so generated requests
    sometimes name real ones."""
    draft = await create_draft(api, token["author"], **fixture("article-stabschefs.de.json"))
    live = await publish(
        api,
        token["editor"],
        await create_draft(api, token["author"], **fixture("article-luxusgueter.de.json")),
    )
    # The admin keeps a working copy of the draft, so reading one can answer 200.
    copy = await api.put(
        f"/v1/admin/articles/{draft['id']}/draft-copy",
        json={"based_on": 1, "lead": "Entwurf"},
        headers={"Authorization": f"Bearer {token['admin']}"},
    )
    assert copy.status_code == 200, copy.text
    user_id = await db.fetchval("SELECT user_id FROM api_tokens WHERE name = 'eddie'")
    preview = await api.post(f"/v1/admin/articles/{draft['id']}/previews", headers=bearer(token["author"]))
    assert preview.status_code == 201, preview.text
    # An old permalink of the live article, as an import keeps it, so the redirect can answer 301.
    await db.execute(
        "INSERT INTO article_redirects (path, article_id, origin, created_at)"
        " VALUES ('/2022/03/luxusgueter', $1, 'fuzz', now())",
        uuid.UUID(live["id"]),
    )
    return {
        "draft_id": draft["id"],
        "live_id": live["id"],
        "live_slug": live["slug"],
        "user_id": str(user_id),
        "preview_token": preview.json()["token"],
        "redirect_path": "/2022/03/luxusgueter/",
    }


@pytest.fixture
def fuzzed_app(settings: SystemSettings, seeded: dict[str, str]) -> Iterator[Starlette]:
    """An application not yet started: schemathesis starts its lifespan on its own event loop."""
    # The consumers' status endpoints at a port nothing listens on: /distribution shows them
    # unknown at once, whatever else this machine serves on CMS_PUBLIC_URL's port.
    closed = f"http://127.0.0.1:{free_port()}"
    yield create_app(
        settings.model_copy(update={"search_url": closed, "social_url": closed, "ads_url": closed})
    )
    # Closes the pool schemathesis opened, before the test database is dropped.
    schemathesis_asgi.shutdown_lifespans()


@pytest.fixture
def schema(fuzzed_app: Starlette) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)


def test_no_input_with_an_admin_token_gets_a_5xx_or_an_undocumented_status(
    schema: Any, token: dict[str, str], seeded: dict[str, str]
) -> None:
    """With an admin token, no generated input gets a 5xx or an unlisted status; every read sees a 200."""
    outcome = fuzz(schema, {"Authorization": f"Bearer {token['admin']}"}, seeded)

    assert outcome.failures == [], outcome.report()
    # The run got past authentication and reached the seeded articles, not only 4xx paths.
    reads = [label for label in outcome.seen if label.startswith("GET ")]
    assert len(reads) >= 12  # every read, /openapi.json aside (schemathesis skips its own source)
    # Each read's success: 200, but 301 for the old-permalink redirect, which answers nothing else.
    success = {"GET /v1/content/redirects": 301}
    assert [label for label in reads if success.get(label, 200) not in outcome.seen[label]] == []


def test_no_input_without_a_token_gets_a_5xx_an_undocumented_status_or_into_the_admin_api(
    schema: Any, seeded: dict[str, str]
) -> None:
    """Without a token, generated input gets no 5xx, no unlisted status and no admin route below 400."""
    outcome = fuzz(schema, {}, seeded)

    assert outcome.failures == [], outcome.report()
    admitted = {
        label: sorted(status for status in statuses if status < 400)
        for label, statuses in outcome.seen.items()
        if "/v1/admin/" in label
    }
    assert {label: found for label, found in admitted.items() if found} == {}
    assert 200 in outcome.seen["GET /v1/content/articles/{slug}"]
