"""Soft edit locks: acquire, renew, conflict, take-over and release between two people, leases that
run out, the lock in GET of the article, and the former holder's next save being told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx2
import pytest

from cms.app import create_app
from cms.system import SystemSettings
from tests.helpers import bearer, count, create_draft, event_types, patch

Record = asyncpg.Record


def lock_path(article: dict[str, Any]) -> str:
    return f"/v1/admin/articles/{article['id']}/lock"


async def lock(
    api: httpx2.AsyncClient, token: str, article: dict[str, Any], *, take_over: bool | None = None
) -> httpx2.Response:
    if take_over is None:
        return await api.post(lock_path(article), headers=bearer(token))
    return await api.post(lock_path(article), json={"take_over": take_over}, headers=bearer(token))


async def shown_lock(api: httpx2.AsyncClient, token: str, article: dict[str, Any]) -> Any:
    response = await api.get(f"/v1/admin/articles/{article['id']}", headers=bearer(token))
    assert response.status_code == 200
    return response.json()["lock"]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
async def short_lease_api(settings: SystemSettings) -> AsyncIterator[httpx2.AsyncClient]:
    """The API with a lease of 400 ms, so a test can watch one run out."""
    application = create_app(settings.model_copy(update={"edit_lock_lease": timedelta(milliseconds=400)}))
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            yield client


async def test_a_lock_is_acquired_renewed_and_shown_in_get_of_the_article(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """The holder gets a 120 s lease; a renewal keeps `since`, moves `expires_at`; GET shows it."""
    draft = await create_draft(api, token["author"])
    outbox_before = await count(db, "outbox")

    first = await lock(api, token["author"], draft)
    await asyncio.sleep(0.01)
    renewed = await lock(api, token["author"], draft)

    assert first.status_code == renewed.status_code == 200
    got, again = first.json(), renewed.json()
    assert got["holder"] == again["holder"] == "aurelia"
    assert moment(got["expires_at"]) - moment(got["since"]) == timedelta(seconds=120)
    assert again["since"] == got["since"]
    assert moment(again["expires_at"]) > moment(got["expires_at"])
    assert await shown_lock(api, token["other_author"], draft) == again
    # A lock is not a change to the article.
    assert await count(db, "outbox") == outbox_before
    assert await db.fetchval("SELECT version FROM articles WHERE id = $1", draft["id"]) == 1


async def test_someone_elses_live_lock_is_a_409_naming_the_holder_and_since_when(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """An editor asking for the author's live lock gets a 409 `locked` naming holder and since."""
    draft = await create_draft(api, token["author"])
    held = (await lock(api, token["author"], draft)).json()

    response = await lock(api, token["editor"], draft)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/locked")
    assert problem["lock"] == held
    assert "aurelia" in problem["detail"]
    assert await shown_lock(api, token["editor"], draft) == held


async def test_an_editor_takes_over_and_the_former_holders_next_save_is_told_who_and_when(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """After an editor's take-over the author's save is a 409 `lock-taken` naming the editor."""
    draft = await create_draft(api, token["author"], lead="eins")
    await lock(api, token["author"], draft)

    taken = await lock(api, token["editor"], draft, take_over=True)
    save = await patch(api, token["author"], draft, lead="zwei")  # a matching If-Match

    assert taken.status_code == 200
    assert taken.json()["holder"] == "eddie"
    assert save.status_code == 409
    problem = save.json()
    assert problem["type"].endswith("/lock-taken")
    assert problem["taken_by"] == "eddie"
    assert moment(problem["taken_at"]) == moment(taken.json()["since"])
    assert "eddie" in problem["detail"]
    assert await db.fetchval("SELECT lead FROM articles WHERE id = $1", draft["id"]) == "eins"
    assert await event_types(db, draft["id"]) == ["cms.article.created"]
    # An author cannot take it back from an editor; the editor, who holds it, saves.
    assert (await lock(api, token["author"], draft, take_over=True)).status_code == 403
    assert (await patch(api, token["editor"], draft, lead="drei")).status_code == 200


async def test_the_former_holder_saves_after_taking_the_lock_back_and_if_match_still_decides(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Told on save, a former holder who is an editor takes the lock back and saves; If-Match still counts."""
    draft = await create_draft(api, token["author"])
    await lock(api, token["admin"], draft)
    await lock(api, token["editor"], draft, take_over=True)

    told = await patch(api, token["admin"], draft, lead="von Ada")
    back = await lock(api, token["admin"], draft, take_over=True)
    saved = await patch(api, token["admin"], draft, lead="von Ada")
    stale = await patch(api, token["admin"], draft, lead="nochmal")  # still sends version 1

    assert told.json()["type"].endswith("/lock-taken")
    assert back.status_code == 200
    assert back.json()["holder"] == "ada"
    assert saved.status_code == 200
    assert saved.json()["version"] == 2
    assert stale.status_code == 412  # the lock never replaces If-Match


async def test_a_third_person_saving_under_someone_elses_lock_is_told_who_holds_it(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A save by someone who never held the lock, while another holds it, is a 409 `locked`."""
    draft = await create_draft(api, token["author"])
    await lock(api, token["editor"], draft)

    response = await patch(api, token["admin"], draft, lead="x")

    assert response.status_code == 409
    assert response.json()["type"].endswith("/locked")
    assert response.json()["lock"]["holder"] == "eddie"
    assert await db.fetchval("SELECT version FROM articles WHERE id = $1", draft["id"]) == 1


async def test_releasing_is_for_the_holder_or_an_editor_and_then_anyone_saves(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Another author may not release a lock (403); the holder may; an editor may release anyone's."""
    mine = await create_draft(api, token["author"])
    await lock(api, token["author"], mine)

    by_colleague = await api.delete(lock_path(mine), headers=bearer(token["other_author"]))
    by_holder = await api.delete(lock_path(mine), headers=bearer(token["author"]))
    again = await api.delete(lock_path(mine), headers=bearer(token["author"]))

    assert by_colleague.status_code == 403
    assert (by_holder.status_code, again.status_code) == (204, 204)
    assert await shown_lock(api, token["author"], mine) is None
    # Nobody holds it: a save without the lock works as it always did.
    assert (await patch(api, token["editor"], mine, lead="frei")).status_code == 200

    theirs = await create_draft(api, token["other_author"])
    await lock(api, token["other_author"], theirs)
    assert (await api.delete(lock_path(theirs), headers=bearer(token["editor"]))).status_code == 204
    assert await shown_lock(api, token["editor"], theirs) is None


async def test_a_lease_that_ran_out_counts_as_no_lock(
    short_lease_api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Once the lease ran out, GET shows no lock, others save, and another person locks without take-over."""
    api = short_lease_api
    draft = await create_draft(api, token["author"])
    held = await lock(api, token["author"], draft)
    assert moment(held.json()["expires_at"]) - moment(held.json()["since"]) == timedelta(milliseconds=400)
    assert (await lock(api, token["editor"], draft)).status_code == 409

    await asyncio.sleep(0.5)

    assert await shown_lock(api, token["editor"], draft) is None
    saved = await patch(api, token["editor"], draft, lead="nach Ablauf")
    taken = await lock(api, token["editor"], saved.json())
    assert saved.status_code == 200
    assert taken.status_code == 200
    assert taken.json()["holder"] == "eddie"


async def test_deleting_an_article_releases_its_lock(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """The lock goes with a deleted article, and a deleted article cannot be locked (404)."""
    draft = await create_draft(api, token["author"])
    await lock(api, token["editor"], draft)

    deleted = await api.delete(
        f"/v1/admin/articles/{draft['id']}", headers={**bearer(token["editor"]), "If-Match": '"1"'}
    )

    assert deleted.status_code == 204
    assert await db.fetchval("SELECT count(*) FROM article_locks WHERE article_id = $1", draft["id"]) == 0
    assert (await lock(api, token["editor"], draft)).status_code == 404
