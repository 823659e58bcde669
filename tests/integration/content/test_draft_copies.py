"""Autosave: each person's working copy of an article, apart from its versions and events."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx2

from tests.helpers import bearer, count, create_draft, event_types, patch

Record = asyncpg.Record


def copy_path(article: dict[str, Any]) -> str:
    return f"/v1/admin/articles/{article['id']}/draft-copy"


async def put_copy(
    api: httpx2.AsyncClient, token: str, article: dict[str, Any], based_on: int | None = None, **fields: Any
) -> httpx2.Response:
    body = {"based_on": based_on or article["version"], **fields}
    return await api.put(copy_path(article), json=body, headers=bearer(token))


async def copies(db: asyncpg.Connection[Record], article: dict[str, Any]) -> dict[str, dict[str, Any]]:
    query = "SELECT actor, fields FROM article_draft_copies WHERE article_id = $1"
    rows = await db.fetch(query, article["id"])
    return {row["actor"]: row["fields"] for row in rows}


async def test_an_autosaved_copy_comes_back_with_no_new_version_revision_or_event(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A copy comes back as sent, based on the current version, with no new version, revision or event."""
    draft = await create_draft(api, token["author"], lead="alt")
    outbox_before = await count(db, "outbox")
    revisions_before = await count(db, "article_revisions")
    blocks = [{"type": "paragraph", "text": "Erster <b>Absatz</b>"}]

    saved = await put_copy(api, token["author"], draft, lead="neu", body=blocks, section=None)
    read = await api.get(copy_path(draft), headers=bearer(token["author"]))

    assert saved.status_code == 200, saved.text
    assert read.status_code == 200
    assert read.json() == saved.json()
    answer = read.json()
    assert answer["based_on"] == answer["current_version"] == 1
    assert answer["stale"] is False
    # Only the fields sent, and a null section (clear it) kept apart from no section at all.
    assert answer["fields"] == {"lead": "neu", "body": blocks, "section": None}
    assert await count(db, "outbox") == outbox_before
    assert await count(db, "article_revisions") == revisions_before
    article = await db.fetchrow("SELECT version, lead FROM articles WHERE id = $1", draft["id"])
    assert article is not None
    assert (article["version"], article["lead"]) == (1, "alt")
    assert await event_types(db, draft["id"]) == ["cms.article.created"]


async def test_a_copy_is_validated_and_sanitised_like_a_patch_and_a_bad_one_stores_nothing(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Sanitised as a PATCH; markup in plain text, unknown fields or a future based_on are a 422."""
    draft = await create_draft(api, token["author"])

    markup = await put_copy(api, token["author"], draft, title="<b>fett</b>")
    unknown = await put_copy(api, token["author"], draft, colour="rot")
    future = await put_copy(api, token["author"], draft, based_on=2, lead="x")
    missing = await api.put(copy_path(draft), json={"lead": "x"}, headers=bearer(token["author"]))
    assert [r.status_code for r in (markup, unknown, future, missing)] == [422] * 4
    assert future.json()["errors"][0]["loc"] == ["body", "based_on"]
    assert await copies(db, draft) == {}

    unsafe = [{"type": "paragraph", "text": 'Hallo<script>alert(1)</script> <i onclick="x()">Welt</i>'}]
    saved = await put_copy(api, token["author"], draft, body=unsafe)

    assert saved.status_code == 200
    assert saved.json()["fields"]["body"] == [{"type": "paragraph", "text": "Hallo <i>Welt</i>"}]
    assert (await copies(db, draft))["aurelia"]["body"][0]["text"] == "Hallo <i>Welt</i>"


async def test_a_copy_larger_than_a_patch_may_be_is_refused_with_413(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A copy is bounded like a PATCH: past CMS_MAX_BODY_BYTES it is a 413 and nothing is stored."""
    draft = await create_draft(api, token["author"])
    huge = "Wort " * (2 * 1024 * 1024 // 5 + 10)

    response = await put_copy(api, token["author"], draft, body=[{"type": "paragraph", "text": huge}])

    assert response.status_code == 413
    assert await copies(db, draft) == {}


async def test_a_copy_is_reported_stale_once_someone_else_saved_the_article(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """After an editor saves a new version, the author's copy says it was based on the older one: stale."""
    draft = await create_draft(api, token["author"], lead="eins")
    await put_copy(api, token["author"], draft, lead="mein Entwurf")

    saved = await patch(api, token["editor"], draft, lead="zwei")
    read = await api.get(copy_path(draft), headers=bearer(token["author"]))

    assert saved.status_code == 200
    answer = read.json()
    assert (answer["based_on"], answer["current_version"], answer["stale"]) == (1, 2, True)
    assert answer["fields"] == {"lead": "mein Entwurf"}


async def test_each_person_keeps_their_own_copy_and_a_save_removes_only_the_savers(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Author and editor each keep their own copy; the author's save removes only the author's."""
    draft = await create_draft(api, token["author"])
    await put_copy(api, token["author"], draft, lead="von Aurelia")
    await put_copy(api, token["editor"], draft, lead="von Eddie")

    mine = await api.get(copy_path(draft), headers=bearer(token["author"]))
    theirs = await api.get(copy_path(draft), headers=bearer(token["editor"]))
    assert mine.json()["fields"] == {"lead": "von Aurelia"}
    assert theirs.json()["fields"] == {"lead": "von Eddie"}

    saved = await patch(api, token["author"], draft, lead="von Aurelia")

    assert saved.status_code == 200
    assert (await api.get(copy_path(draft), headers=bearer(token["author"]))).status_code == 404
    assert await copies(db, draft) == {"eddie": {"lead": "von Eddie"}}


async def test_a_refused_save_keeps_the_copy(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A save that fails (a stale If-Match) rolls back with it: the working copy is still there."""
    draft = await create_draft(api, token["author"])
    await patch(api, token["editor"], draft, lead="zwei")
    await put_copy(api, token["author"], draft, lead="meins")

    refused = await patch(api, token["author"], draft, lead="meins")  # still sends version 1

    assert refused.status_code == 412
    assert await copies(db, draft) == {"aurelia": {"lead": "meins"}}


async def test_discarding_a_copy_removes_it_and_a_second_discard_is_404(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """DELETE discards the caller's copy (204), then there is none to discard or read (404)."""
    draft = await create_draft(api, token["author"])
    await put_copy(api, token["author"], draft, lead="weg damit")
    await put_copy(api, token["editor"], draft, lead="bleibt")

    first = await api.delete(copy_path(draft), headers=bearer(token["author"]))
    second = await api.delete(copy_path(draft), headers=bearer(token["author"]))
    read = await api.get(copy_path(draft), headers=bearer(token["author"]))

    assert (first.status_code, second.status_code, read.status_code) == (204, 404, 404)
    assert read.headers["content-type"] == "application/problem+json"
    assert await copies(db, draft) == {"eddie": {"lead": "bleibt"}}


async def test_deleting_an_article_takes_every_copy_with_it(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A deleted article's copies are gone in the same transaction, and nobody can read or save one."""
    draft = await create_draft(api, token["author"])
    other = await create_draft(api, token["author"], title="Bleibt")
    await put_copy(api, token["author"], draft, lead="a")
    await put_copy(api, token["editor"], draft, lead="b")
    await put_copy(api, token["author"], other, lead="c")

    deleted = await api.delete(
        f"/v1/admin/articles/{draft['id']}", headers={**bearer(token["editor"]), "If-Match": '"1"'}
    )

    assert deleted.status_code == 204
    assert await copies(db, draft) == {}
    assert await copies(db, other) == {"aurelia": {"lead": "c"}}
    assert (await api.get(copy_path(draft), headers=bearer(token["author"]))).status_code == 404
    assert (await put_copy(api, token["author"], draft, lead="d")).status_code == 404
    assert await copies(db, draft) == {}
