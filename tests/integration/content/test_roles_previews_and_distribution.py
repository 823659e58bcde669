"""Who may make, list and revoke preview links, see distribution and read the calendar."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx2
import pytest

from cms.app import create_app
from cms.system import SystemSettings
from tests.helpers import bearer, count, create_draft, free_port

Record = asyncpg.Record


def previews_of(article: dict[str, Any]) -> str:
    return f"/v1/admin/articles/{article['id']}/previews"


async def test_an_author_makes_lists_and_revokes_links_of_their_own_articles_only(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """An author manages their own article's links; a colleague's gets 403 for each, and nothing changes."""
    mine = await create_draft(api, token["author"], title="Meins")
    theirs = await create_draft(api, token["other_author"], title="Seins")
    their_link = (await api.post(previews_of(theirs), headers=bearer(token["other_author"]))).json()
    me = bearer(token["author"])

    own = await api.post(previews_of(mine), headers=me)
    own_list = await api.get(previews_of(mine), headers=me)
    own_revoke = await api.delete(f"{previews_of(mine)}/{own.json()['id']}", headers=me)
    other_make = await api.post(previews_of(theirs), headers=me)
    other_list = await api.get(previews_of(theirs), headers=me)
    other_revoke = await api.delete(f"{previews_of(theirs)}/{their_link['id']}", headers=me)

    assert (own.status_code, own_list.status_code, own_revoke.status_code) == (201, 200, 204)
    assert (other_make.status_code, other_list.status_code, other_revoke.status_code) == (403, 403, 403)
    assert await count(db, "article_previews") == 2
    assert (
        await db.fetchval("SELECT revoked_at FROM article_previews WHERE id = $1", their_link["id"]) is None
    )
    assert (await api.get(their_link["url"])).status_code == 200


async def test_an_editor_manages_the_links_of_any_article(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Editors make, list and revoke links of an author's article."""
    theirs = await create_draft(api, token["author"])
    editor = bearer(token["editor"])

    made = await api.post(previews_of(theirs), headers=editor)
    listed = await api.get(previews_of(theirs), headers=editor)
    revoked = await api.delete(f"{previews_of(theirs)}/{made.json()['id']}", headers=editor)

    assert (made.status_code, listed.status_code, revoked.status_code) == (201, 200, 204)
    assert made.json()["created_by"] == "eddie"
    assert (await api.get(made.json()["url"])).status_code == 404


async def test_a_preview_link_needs_no_token_but_its_management_does(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """The link itself is the credential; managing it without a token is 401, even with a bad id."""
    draft = await create_draft(api, token["editor"])
    link = (await api.post(previews_of(draft), headers=bearer(token["editor"]))).json()

    responses = [
        await api.post(previews_of(draft)),
        await api.get(previews_of(draft)),
        await api.delete(f"{previews_of(draft)}/{link['id']}"),
        await api.post("/v1/admin/articles/not-a-uuid/previews", json={"expires_in": -1}),
        await api.delete(f"{previews_of(draft)}/not-a-uuid"),
    ]

    assert [r.status_code for r in responses] == [401] * 5
    assert await count(db, "article_previews") == 1
    assert (await api.get(link["url"])).status_code == 200


@pytest.fixture
async def closed_consumers(settings: SystemSettings) -> Any:
    """The content API with every consumer at a port nothing listens on."""
    closed = f"http://127.0.0.1:{free_port()}"
    application = create_app(
        settings.model_copy(update={"search_url": closed, "social_url": closed, "ads_url": closed})
    )
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            yield client


async def test_only_editors_see_distribution(
    closed_consumers: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Distribution is for editors and admins: an author gets 403, no token 401."""
    draft = await create_draft(closed_consumers, token["author"])
    url = f"/v1/admin/articles/{draft['id']}/distribution"

    answers = {
        role: (await closed_consumers.get(url, headers=bearer(token[role]))).status_code
        for role in ("author", "editor", "admin")
    }
    anonymous = await closed_consumers.get(url)
    malformed = await closed_consumers.get("/v1/admin/articles/not-a-uuid/distribution")

    assert answers == {"author": 403, "editor": 200, "admin": 200}
    assert (anonymous.status_code, malformed.status_code) == (401, 401)


async def test_every_role_reads_the_calendar_and_strangers_do_not(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """The editorial calendar is open to authors and up; without a token, even a bad window is a 401."""
    answers = {
        role: (await api.get("/v1/admin/schedule", headers=bearer(token[role]))).status_code
        for role in ("author", "editor", "admin")
    }
    anonymous = await api.get("/v1/admin/schedule", params={"from": "yesterday"})

    assert answers == {"author": 200, "editor": 200, "admin": 200}
    assert anonymous.status_code == 401
