"""Who may do what: the roles matrix of design §HTTP API, tokens and how they are stored."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sys
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
import pytest

from tests.helpers import action, bearer, count, create_draft, event_types, patch, publish

Record = asyncpg.Record


async def version_of(db: asyncpg.Connection[Record], article: dict[str, Any]) -> int:
    version: int = await db.fetchval("SELECT version FROM articles WHERE id = $1", article["id"])
    return version


def assert_problem(response: httpx2.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


# authors


async def test_an_author_creates_lists_and_reads_articles(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Authors see every article, their colleagues' too, and own the ones they create."""
    mine = await create_draft(api, token["author"], title="Meins")
    theirs = await create_draft(api, token["other_author"], title="Seins")
    headers = bearer(token["author"])

    listing = await api.get("/v1/admin/articles", headers=headers)
    read_mine = await api.get(f"/v1/admin/articles/{mine['id']}", headers=headers)
    read_theirs = await api.get(f"/v1/admin/articles/{theirs['id']}", headers=headers)

    assert {a["title"] for a in listing.json()["items"]} == {"Meins", "Seins"}
    assert read_mine.status_code == read_theirs.status_code == 200
    assert mine["owner"] == "aurelia"
    assert theirs["owner"] == "otto"


async def test_an_author_edits_and_submits_their_own_draft(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """An author may edit their own draft and send it to review, each step an update event."""
    draft = await create_draft(api, token["author"])

    edited = await patch(api, token["author"], draft, lead="Vorspann")
    submitted = await action(api, token["author"], edited.json(), "submit")

    assert edited.status_code == 200
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "in_review"
    assert await event_types(db, draft["id"]) == [
        "cms.article.created",
        "cms.article.updated",
        "cms.article.updated",
    ]


async def test_an_author_may_not_edit_another_authors_draft(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """An author's edit to a colleague's draft is a 403 and leaves its text and events alone."""
    theirs = await create_draft(api, token["other_author"], lead="Ottos Vorspann")

    response = await patch(api, token["author"], theirs, lead="überschrieben")

    assert_problem(response, 403)
    assert await db.fetchval("SELECT lead FROM articles WHERE id = $1", theirs["id"]) == "Ottos Vorspann"
    assert await event_types(db, theirs["id"]) == ["cms.article.created"]


async def test_an_author_editing_someone_elses_draft_is_refused_before_related_ids_are_checked(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Permission comes first: the edit is a 403, not a 422 that would reveal which ids exist."""
    theirs = await create_draft(api, token["other_author"])

    response = await patch(api, token["author"], theirs, related=["00000000-0000-4000-8000-000000000000"])

    assert response.status_code == 403


async def test_an_author_may_not_submit_another_authors_draft(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """An author cannot submit a colleague's draft: 403, still a draft, no event."""
    theirs = await create_draft(api, token["other_author"])

    response = await action(api, token["author"], theirs, "submit")

    assert_problem(response, 403)
    assert await db.fetchval("SELECT status FROM articles WHERE id = $1", theirs["id"]) == "draft"
    assert await event_types(db, theirs["id"]) == ["cms.article.created"]


async def test_an_author_may_not_edit_their_own_article_once_submitted(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Review freezes the text: the editor reviews what the author sent, not a moving target."""
    draft = await create_draft(api, token["author"])
    in_review = (await action(api, token["author"], draft, "submit")).json()

    response = await patch(api, token["author"], in_review, lead="noch schnell")

    assert_problem(response, 403)
    assert await version_of(db, draft) == 2
    assert await event_types(db, draft["id"]) == ["cms.article.created", "cms.article.updated"]


async def test_an_author_may_not_edit_their_own_published_article(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Once live, an article is the editors' to change: the author gets a 403 and no new version."""
    draft = await create_draft(api, token["author"])
    live = await publish(api, token["editor"], draft)

    response = await patch(api, token["author"], live, title="Neue Schlagzeile")

    assert_problem(response, 403)
    assert await version_of(db, draft) == live["version"]


# What only editors may do, tried by an author: (status of the article, method, path after the id).
EDITOR_ONLY = [
    ("draft", "POST", "publish"),
    ("published", "POST", "unpublish"),
    ("draft", "DELETE", ""),
    ("draft", "POST", "revisions/1/restore"),
]


@pytest.mark.parametrize(("status", "method", "path"), EDITOR_ONLY)
async def test_an_author_may_not_publish_unpublish_delete_or_restore_and_nothing_is_written(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    status: str,
    method: str,
    path: str,
) -> None:
    """Publishing, unpublishing, deleting and restoring are editor-only: 403, and nothing is written."""
    article = await create_draft(api, token["author"])
    if status == "published":
        article = await publish(api, token["editor"], article)
    outbox_before = await count(db, "outbox")
    revisions_before = await count(db, "article_revisions")

    response = await api.request(
        method,
        f"/v1/admin/articles/{article['id']}/{path}".rstrip("/"),
        headers={**bearer(token["author"]), "If-Match": f'"{article["version"]}"'},
    )

    assert_problem(response, 403)
    assert "editor" in response.json()["detail"]
    assert await count(db, "outbox") == outbox_before
    assert await count(db, "article_revisions") == revisions_before
    row = await db.fetchrow("SELECT status, version, deleted_at FROM articles WHERE id = $1", article["id"])
    assert row is not None
    assert (row["status"], row["version"], row["deleted_at"]) == (status, article["version"], None)


# Corrections and takedowns: (status of the article, method, path after the id, body).
TAKEDOWN_EDITOR_ONLY = [
    ("published", "POST", "corrections", {"note": "Korrigiert."}),
    ("published", "POST", "kill", {"reason": "Verfügung"}),
    ("published", "GET", "takedowns", None),
]


@pytest.mark.parametrize(("status", "method", "path", "body"), TAKEDOWN_EDITOR_ONLY)
async def test_an_author_may_not_correct_kill_or_read_the_takedown_record(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    status: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """Corrections, kills and the takedown record are for editors: an author gets a 403, nothing written."""
    article = await publish(api, token["editor"], await create_draft(api, token["author"]))
    outbox_before = await count(db, "outbox")

    response = await api.request(
        method, f"/v1/admin/articles/{article['id']}/{path}", json=body, headers=bearer(token["author"])
    )

    assert_problem(response, 403)
    assert "editor" in response.json()["detail"]
    assert await count(db, "outbox") == outbox_before
    assert await count(db, "article_takedowns") == 0
    assert await version_of(db, article) == article["version"]


@pytest.mark.parametrize("role", ["editor", "author"])
async def test_only_an_admin_restores_a_killed_article(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], role: str
) -> None:
    """Lifting a takedown is for admins: an editor's or author's restore is a 403; the admin's is a 200."""
    article = await publish(api, token["editor"], await create_draft(api, token["author"]))
    killed = (await action(api, token["editor"], article, "kill", {"reason": "Verfügung"})).json()

    refused = await action(api, token[role], killed, "restore-killed", {"reason": "aufgehoben"})
    status_after_refusal = await db.fetchval("SELECT status FROM articles WHERE id = $1", article["id"])
    allowed = await action(api, token["admin"], killed, "restore-killed", {"reason": "aufgehoben"})

    assert_problem(refused, 403)
    assert "admin" in refused.json()["detail"]
    assert status_after_refusal == "killed"
    assert allowed.status_code == 200
    assert allowed.json()["status"] == "unpublished"


async def test_an_editor_corrects_kills_and_reads_the_takedown_record(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """An editor may add a correction, kill, and read who killed it and why."""
    article = await publish(api, token["editor"], await create_draft(api, token["author"]))

    corrected = await action(api, token["editor"], article, "corrections", {"note": "Korrigiert."})
    killed = await action(api, token["editor"], corrected.json(), "kill", {"reason": "Verfügung"})
    record = await api.get(f"/v1/admin/articles/{article['id']}/takedowns", headers=bearer(token["editor"]))

    assert [r.status_code for r in (corrected, killed, record)] == [200, 200, 200]
    assert [e["reason"] for e in record.json()["items"]] == ["Verfügung"]


async def test_an_author_may_not_read_the_event_log(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """The event log is for editors: an author gets a 403."""
    await create_draft(api, token["author"])

    response = await api.get("/v1/admin/events", headers=bearer(token["author"]))

    assert_problem(response, 403)


async def test_an_author_keeps_copies_and_locks_only_of_what_they_may_edit(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """An author may autosave and lock their own draft, not a colleague's (403, nothing stored)."""
    mine = await create_draft(api, token["author"])
    theirs = await create_draft(api, token["other_author"])
    headers = bearer(token["author"])

    own_copy = await api.put(
        f"/v1/admin/articles/{mine['id']}/draft-copy", json={"based_on": 1}, headers=headers
    )
    own_lock = await api.post(f"/v1/admin/articles/{mine['id']}/lock", headers=headers)
    their_copy = await api.put(
        f"/v1/admin/articles/{theirs['id']}/draft-copy", json={"based_on": 1, "lead": "x"}, headers=headers
    )
    their_lock = await api.post(f"/v1/admin/articles/{theirs['id']}/lock", headers=headers)

    assert (own_copy.status_code, own_lock.status_code) == (200, 200)
    assert_problem(their_copy, 403)
    assert_problem(their_lock, 403)
    assert (
        await db.fetchval("SELECT count(*) FROM article_draft_copies WHERE article_id = $1", theirs["id"])
        == 0
    )
    assert await db.fetchval("SELECT count(*) FROM article_locks WHERE article_id = $1", theirs["id"]) == 0


async def test_an_author_may_not_take_over_or_release_anothers_lock_but_reads_every_diff(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Taking over and releasing someone else's lock are refused to authors (403); reading a diff is not."""
    mine = await create_draft(api, token["author"])
    path = f"/v1/admin/articles/{mine['id']}"
    held = await api.post(f"{path}/lock", headers=bearer(token["editor"]))
    headers = bearer(token["author"])

    take_over = await api.post(f"{path}/lock", json={"take_over": True}, headers=headers)
    release = await api.delete(f"{path}/lock", headers=headers)
    theirs = await create_draft(api, token["other_author"])
    diff = await api.get(f"/v1/admin/articles/{theirs['id']}/revisions/1/diff/1", headers=headers)

    assert_problem(take_over, 403)
    assert_problem(release, 403)
    assert await db.fetchval("SELECT holder FROM article_locks WHERE article_id = $1", mine["id"]) == "eddie"
    assert held.json()["holder"] == "eddie"
    assert diff.status_code == 200


async def test_without_a_token_the_copy_lock_and_diff_endpoints_are_401_and_write_nothing(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Every autosave, lock and diff endpoint answers 401 without a token, before reading the body."""
    article = await create_draft(api, token["author"])
    path = f"/v1/admin/articles/{article['id']}"
    await api.post(f"{path}/lock", headers=bearer(token["author"]))

    responses = [
        await api.put(f"{path}/draft-copy", json={"based_on": 1}),
        await api.put(
            f"{path}/draft-copy", content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        await api.get(f"{path}/draft-copy"),
        await api.delete(f"{path}/draft-copy"),
        await api.post(f"{path}/lock", json={"take_over": True}),
        await api.delete(f"{path}/lock"),
        await api.get(f"{path}/revisions/1/diff/1"),
        await api.get("/v1/admin/articles/not-a-uuid/revisions/x/diff/y"),
    ]

    for response in responses:
        assert_problem(response, 401)
    assert await count(db, "article_draft_copies") == 0
    assert (
        await db.fetchval("SELECT holder FROM article_locks WHERE article_id = $1", article["id"])
        == "aurelia"
    )


# editors


async def test_an_editor_edits_an_authors_article_at_any_status(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """An editor may edit an author's article in review, and the author stays its owner."""
    draft = await create_draft(api, token["author"])
    in_review = (await action(api, token["author"], draft, "submit")).json()

    response = await patch(api, token["editor"], in_review, lead="redigiert")

    assert response.status_code == 200
    assert response.json()["lead"] == "redigiert"
    assert response.json()["owner"] == "aurelia"  # editing does not take the article over


async def test_an_editor_submits_publishes_unpublishes_restores_and_deletes(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """An editor can take an article through every action, each writing the one event it should."""
    article = await create_draft(api, token["author"], lead="eins")
    editor = bearer(token["editor"])
    path = f"/v1/admin/articles/{article['id']}"

    submitted = await api.post(f"{path}/submit", headers=editor)
    published = await api.post(f"{path}/publish", headers=editor)
    edited = await patch(api, token["editor"], published.json(), lead="zwei")
    restored = await api.post(f"{path}/revisions/1/restore", headers=editor)
    unpublished = await api.post(f"{path}/unpublish", headers=editor)
    deleted = await api.delete(path, headers={**editor, "If-Match": '"6"'})

    statuses = [r.status_code for r in (submitted, published, edited, restored, unpublished, deleted)]
    assert statuses == [200, 200, 200, 200, 200, 204]
    assert restored.json()["lead"] == "eins"
    assert await event_types(db, article["id"]) == [
        "cms.article.created",
        "cms.article.updated",
        "cms.article.published",
        "cms.article.updated",
        "cms.article.updated",
        "cms.article.unpublished",
        "cms.article.deleted",
    ]


async def test_an_editor_reads_revisions_and_the_event_log(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Editors may read an article's revisions and the event log."""
    article = await create_draft(api, token["author"])
    editor = bearer(token["editor"])

    revisions = await api.get(f"/v1/admin/articles/{article['id']}/revisions", headers=editor)
    events = await api.get("/v1/admin/events", headers=editor)

    assert [r["version"] for r in revisions.json()["items"]] == [1]
    # Only 200 here: the log shows a row once every older transaction in the cluster ended,
    # and other test runs may share the server.
    assert events.status_code == 200
    assert set(events.json()) == {"items", "next_cursor"}


async def test_an_editor_may_not_manage_tokens(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """Editors cannot create or list tokens, so they cannot make themselves admins."""
    editor = bearer(token["editor"])

    created = await api.post("/v1/admin/tokens", json={"name": "x", "role": "admin"}, headers=editor)
    listed = await api.get("/v1/admin/tokens", headers=editor)

    assert_problem(created, 403)
    assert_problem(listed, 403)


# tokens: admins only


@pytest.mark.parametrize("role", ["editor", "author"])
async def test_only_admins_create_list_or_revoke_tokens(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], role: str
) -> None:
    """Editors and authors get 403 for every token action, and no token is added or revoked."""
    headers = bearer(token[role])
    some_id = await db.fetchval("SELECT id FROM api_tokens WHERE name = 'ada'")
    before = await count(db, "api_tokens")

    created = await api.post("/v1/admin/tokens", json={"name": "mallory", "role": "admin"}, headers=headers)
    listed = await api.get("/v1/admin/tokens", headers=headers)
    revoked = await api.delete(f"/v1/admin/tokens/{some_id}", headers=headers)

    for response in (created, listed, revoked):
        assert_problem(response, 403)
    assert await count(db, "api_tokens") == before
    assert await db.fetchval("SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL") == 0


async def test_an_admin_creates_a_token_that_works_at_once(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A token an admin creates works at once with its role, and articles are credited to its name."""
    response = await api.post(
        "/v1/admin/tokens", json={"name": "Desk Berlin", "role": "editor"}, headers=bearer(token["admin"])
    )

    assert response.status_code == 201
    created = response.json()
    assert created["role"] == "editor"
    assert created["name"] == "Desk Berlin"
    assert response.headers["location"] == f"/v1/admin/tokens/{created['id']}"
    assert response.headers["cache-control"] == "no-store"
    # Its role lets it publish, and the article is credited to the token's holder.
    article = await create_draft(api, created["token"])
    assert article["owner"] == "Desk Berlin"
    assert (await publish(api, created["token"], article))["status"] == "published"


async def test_the_token_list_never_shows_a_secret(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """The token list shows names and roles, never a token or its hash."""
    response = await api.get("/v1/admin/tokens", headers=bearer(token["admin"]))

    items = response.json()["items"]
    assert {(t["name"], t["role"]) for t in items} == {
        ("ada", "admin"),
        ("eddie", "editor"),
        ("aurelia", "author"),
        ("otto", "author"),
    }
    assert all("token" not in item and "token_hash" not in item for item in items)
    for secret in token.values():
        assert secret not in response.text


async def test_a_revoked_token_stops_working_at_once(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A revoked token is refused (401) on its very next read or write, and the list shows it revoked."""
    admin = bearer(token["admin"])
    created = (
        await api.post("/v1/admin/tokens", json={"name": "Praktikant", "role": "author"}, headers=admin)
    ).json()
    assert (await api.get("/v1/admin/articles", headers=bearer(created["token"]))).status_code == 200

    revoked = await api.delete(f"/v1/admin/tokens/{created['id']}", headers=admin)
    after = await api.get("/v1/admin/articles", headers=bearer(created["token"]))
    writing = await api.post(
        "/v1/admin/articles", json={"title": "x", "language": "de"}, headers=bearer(created["token"])
    )

    assert revoked.status_code == 204
    assert_problem(after, 401)
    assert_problem(writing, 401)
    assert await count(db, "articles") == 0
    listed = (await api.get("/v1/admin/tokens", headers=admin)).json()["items"]
    assert next(t for t in listed if t["id"] == created["id"])["revoked_at"] is not None


async def test_revoking_an_unknown_token_is_404(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """Revoking a token id that does not exist is a 404 problem."""
    response = await api.delete(
        "/v1/admin/tokens/6f1c1a5e-0000-4000-8000-000000000000", headers=bearer(token["admin"])
    )

    assert_problem(response, 404)


async def test_the_token_secret_is_stored_only_as_its_hash(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """The database holds only the token's SHA-256, never the secret in any column."""
    response = await api.post(
        "/v1/admin/tokens", json={"name": "Archiv", "role": "author"}, headers=bearer(token["admin"])
    )
    secret = response.json()["token"]

    rows = await db.fetch("SELECT * FROM api_tokens")

    values = [value for row in rows for value in row.values()]
    assert secret not in [str(v) for v in values]
    assert secret.encode() not in [v for v in values if isinstance(v, bytes)]
    assert all(secret not in str(v) for v in values)
    stored = await db.fetchval("SELECT token_hash FROM api_tokens WHERE name = 'Archiv'")
    assert stored == hashlib.sha256(secret.encode()).digest()


# users: admins only; the session endpoints: anyone signed in

USERS_ENDPOINTS = [
    ("GET", "/v1/admin/users", None),
    (
        "POST",
        "/v1/admin/users",
        {"email": "m@example.org", "name": "M", "role": "admin", "password": "x" * 12},
    ),
    ("GET", "/v1/admin/users/{id}", None),
    ("PATCH", "/v1/admin/users/{id}", {"role": "admin"}),
]


@pytest.mark.parametrize("role", ["editor", "author"])
@pytest.mark.parametrize(
    ("method", "path", "body"), USERS_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in USERS_ENDPOINTS]
)
async def test_only_admins_list_create_read_or_change_users(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    role: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """Editors and authors get 403 on every users endpoint, and no user is added or changed."""
    own_id = await db.fetchval("SELECT user_id FROM api_tokens WHERE role = $1 LIMIT 1", role)
    before = await db.fetch("SELECT * FROM users ORDER BY id")

    response = await api.request(method, path.format(id=own_id), json=body, headers=bearer(token[role]))

    assert_problem(response, 403)
    assert await db.fetch("SELECT * FROM users ORDER BY id") == before


@pytest.mark.parametrize(
    ("method", "path", "body"), USERS_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in USERS_ENDPOINTS]
)
async def test_an_admin_reaches_every_users_endpoint(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    """An admin's token lists, creates, reads and changes users."""
    some_id = await db.fetchval("SELECT user_id FROM api_tokens WHERE name = 'eddie'")

    response = await api.request(method, path.format(id=some_id), json=body, headers=bearer(token["admin"]))

    assert response.status_code in (200, 201), response.text


AUTH_ENDPOINTS = [
    ("GET", "/v1/auth/session"),
    ("DELETE", "/v1/auth/session"),
    ("POST", "/v1/auth/sessions/revoke"),
    ("GET", "/v1/admin/users"),
    ("POST", "/v1/admin/users"),
    ("GET", "/v1/admin/users/6f1c1a5e-0000-4000-8000-000000000000"),
    ("PATCH", "/v1/admin/users/6f1c1a5e-0000-4000-8000-000000000000"),
]


@pytest.mark.parametrize(("method", "path"), AUTH_ENDPOINTS)
async def test_without_a_token_or_session_the_people_endpoints_are_401(
    api: httpx2.AsyncClient, method: str, path: str
) -> None:
    """Who-am-I, sign-out, sign-out everywhere and the users API need a token or a session."""
    response = await api.request(method, path)

    assert_problem(response, 401)


@pytest.mark.parametrize("role", ["admin", "editor", "author"])
async def test_every_role_asks_who_it_is_and_signs_out_everywhere(
    api: httpx2.AsyncClient, token: dict[str, str], role: str
) -> None:
    """Any role may ask who it is and end its sessions; with a token there is no one session to end (409)."""
    headers = bearer(token[role])

    me = await api.get("/v1/auth/session", headers=headers)
    everywhere = await api.post("/v1/auth/sessions/revoke", headers=headers)
    one = await api.delete("/v1/auth/session", headers=headers)

    assert me.status_code == 200
    assert me.json()["user"]["role"] == role
    assert me.json()["csrf_token"] is None
    assert everywhere.status_code == 204
    assert_problem(one, 409)


# 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    "},
        {"Authorization": "Basic YWRhOnNlY3JldA=="},
        {"Authorization": "cms_abc"},
        {"Authorization": "Bearer cms_this-token-was-never-issued"},
        {"Authorization": "Bearer not-even-our-format"},
    ],
    ids=["missing", "empty", "scheme-only", "blank", "basic", "no-scheme", "unknown", "foreign"],
)
async def test_a_missing_malformed_or_unknown_token_is_401(
    api: httpx2.AsyncClient, token: dict[str, str], headers: dict[str, str]
) -> None:
    """Any missing, malformed, foreign or unknown credential is a 401 with a Bearer challenge."""
    response = await api.get("/v1/admin/articles", headers=headers)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_bearer_scheme_is_case_insensitive(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """The auth scheme is matched case-insensitively, as RFC 9110 says: `bearer` works."""
    response = await api.get("/v1/admin/articles", headers={"Authorization": f"bearer {token['author']}"})

    assert response.status_code == 200


async def test_without_a_token_nothing_is_written_and_the_body_is_not_judged(
    api: httpx2.AsyncClient, db: asyncpg.Connection[Record]
) -> None:
    """A stranger learns nothing about what the API would accept."""
    response = await api.post(
        "/v1/admin/articles", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert_problem(response, 401)
    assert await count(db, "articles") == 0
    assert await count(db, "outbox") == 0


async def test_without_a_token_even_a_malformed_id_or_query_is_a_401(api: httpx2.AsyncClient) -> None:
    """Without a token, malformed ids and queries get 401 too, so a stranger learns nothing of the API."""
    responses = [
        await api.get("/v1/admin/articles/not-a-uuid"),
        await api.get("/v1/admin/articles?limit=0"),
        await api.delete("/v1/admin/tokens/xyz"),
        await api.get("/v1/admin/events?after=-1"),
        await api.get("/v1/admin/articles/6f1c1a5e-0000-4000-8000-000000000000/revisions/x"),
    ]

    assert [r.status_code for r in responses] == [401] * 5


async def test_the_delivery_api_needs_no_token(api: httpx2.AsyncClient) -> None:
    """The public delivery API answers without any token."""
    response = await api.get("/v1/content/articles")

    assert response.status_code == 200


# the command line


def cms_command() -> Path:
    """The `cms` console script of the environment running the tests."""
    script = Path(sys.executable).parent / "cms"
    assert script.exists(), f"no cms console script next to {sys.executable}"
    return script


async def test_cms_token_create_prints_the_token_alone_on_one_line(
    api: httpx2.AsyncClient, database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """`cms token create` prints only the secret, one line, and it is a working token stored as its hash."""
    env = {**os.environ, "CMS_DATABASE_URL": database_url, "CMS_LOG_FORMAT": "json"}
    process = await asyncio.create_subprocess_exec(
        cms_command(),
        "token",
        "create",
        "--role",
        "editor",
        "--name",
        "Nachtdienst",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 0, stderr.decode()
    lines = stdout.decode().splitlines(keepends=True)
    assert len(lines) == 1
    secret = lines[0].removesuffix("\n")
    assert re.fullmatch(r"\S+", secret), lines
    # It is a real editor token for the person named.
    article = await create_draft(api, secret)
    assert article["owner"] == "Nachtdienst"
    assert (await publish(api, secret, article))["status"] == "published"
    stored = await db.fetchrow("SELECT role, token_hash FROM api_tokens WHERE name = 'Nachtdienst'")
    assert stored is not None
    assert stored["role"] == "editor"
    assert stored["token_hash"] == hashlib.sha256(secret.encode()).digest()


async def test_cms_token_create_refuses_an_unknown_role_and_prints_nothing(
    database_url: str, db: asyncpg.Connection[Record]
) -> None:
    """`cms token create` with an unknown role fails, prints nothing and stores no token."""
    env = {**os.environ, "CMS_DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        cms_command(),
        "token",
        "create",
        "--role",
        "superuser",
        "--name",
        "Mallory",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode != 0
    assert stdout == b""
    assert await count(db, "api_tokens") == 0
