"""Admins manage users over the API: paging, create, change, disable, the last admin kept; tokens
belong to users and act as them."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx2

from cms.platform import tokens
from tests.helpers import bearer, count, create_draft
from tests.integration.people import PASSWORD, make_person

Record = asyncpg.Record


def _person(email: str, role: str = "author", **extra: Any) -> dict[str, Any]:
    return {"email": email, "name": email.split("@")[0].title(), "role": role, "password": PASSWORD, **extra}


async def test_an_admin_creates_a_person_whose_password_is_stored_as_argon2_only(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Creating a user answers 201 with Location and no password; the database holds an argon2id hash."""
    response = await api.post(
        "/v1/admin/users", json=_person("Ada@Example.org", "editor"), headers=bearer(token["admin"])
    )

    assert response.status_code == 201, response.text
    user = response.json()
    assert response.headers["location"] == f"/v1/admin/users/{user['id']}"
    assert (user["email"], user["role"], user["kind"], user["disabled"]) == (
        "Ada@Example.org",
        "editor",
        "person",
        False,
    )
    assert "password" not in response.text
    stored = await db.fetchval("SELECT password_hash FROM users WHERE id = $1", user["id"])
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in str(await db.fetch("SELECT * FROM users"))


async def test_an_email_is_unique_whatever_its_case(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A second user with the same email in another case is a 409 and is not stored."""
    admin = bearer(token["admin"])
    first = await api.post("/v1/admin/users", json=_person("ada@example.org"), headers=admin)
    second = await api.post("/v1/admin/users", json=_person("ADA@example.ORG"), headers=admin)

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert await db.fetchval("SELECT count(*) FROM users WHERE kind = 'person'") == 1


async def test_a_short_password_or_a_bad_email_is_a_422(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Passwords under 12 characters and strings that are no email are refused, nothing stored."""
    admin = bearer(token["admin"])
    short = await api.post("/v1/admin/users", json=_person("ada@example.org", password="kurz"), headers=admin)
    bad = await api.post("/v1/admin/users", json=_person("keine-adresse"), headers=admin)

    assert short.status_code == bad.status_code == 422
    assert await db.fetchval("SELECT count(*) FROM users WHERE kind = 'person'") == 0


async def test_the_user_list_pages_with_a_cursor_oldest_first(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Users (the token fixture's machines and two people) come in pages of two, each once, in order."""
    await make_person(db, "ada@example.org")
    await make_person(db, "bob@example.org")
    admin = bearer(token["admin"])
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        page = (
            await api.get(
                "/v1/admin/users",
                params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                headers=admin,
            )
        ).json()
        seen += [user["email"] or user["name"] for user in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == ["ada", "eddie", "aurelia", "otto", "ada@example.org", "bob@example.org"]
    bad = await api.get("/v1/admin/users", params={"cursor": "nonsense"}, headers=admin)
    assert bad.status_code == 422


async def test_an_admin_renames_changes_the_role_and_reenables_a_user(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """PATCH changes name and role; disable then enable; GET shows the result; unknown ids are 404."""
    user = await make_person(db, "ada@example.org", "author")
    admin = bearer(token["admin"])
    path = f"/v1/admin/users/{user.id}"

    changed = await api.patch(path, json={"name": "Ada King", "role": "editor"}, headers=admin)
    disabled = await api.patch(path, json={"disabled": True}, headers=admin)
    enabled = await api.patch(path, json={"disabled": False}, headers=admin)
    read = await api.get(path, headers=admin)
    unknown = await api.patch(
        "/v1/admin/users/6f1c1a5e-0000-4000-8000-000000000000", json={"role": "admin"}, headers=admin
    )

    assert (changed.json()["name"], changed.json()["role"]) == ("Ada King", "editor")
    assert disabled.json()["disabled"] is True
    assert enabled.json()["disabled"] is False
    assert read.json() == enabled.json()
    assert unknown.status_code == 404


async def test_the_last_enabled_admin_can_neither_be_demoted_nor_disabled(
    api: httpx2.AsyncClient, db: asyncpg.Connection[Record]
) -> None:
    """An admin cannot demote or disable themselves while no other admin would be left; with a
    second admin they can."""
    ada = await make_person(db, "ada@example.org", "admin")
    own = (await tokens.create(db, name="Adas Laptop", role="admin", user_id=ada.id)).token
    path = f"/v1/admin/users/{ada.id}"

    demoted = await api.patch(path, json={"role": "editor"}, headers=bearer(own))
    disabled = await api.patch(path, json={"disabled": True}, headers=bearer(own))
    await make_person(db, "bob@example.org", "admin")
    demoted_now = await api.patch(path, json={"role": "editor"}, headers=bearer(own))

    assert demoted.status_code == disabled.status_code == 409
    assert demoted.json()["type"].endswith("/last-admin")
    assert demoted_now.status_code == 200
    assert await db.fetchval("SELECT role FROM users WHERE id = $1", ada.id) == "editor"


async def test_a_token_acts_as_its_user_with_its_own_role_as_the_ceiling(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A person's token credits their email; an admin token of an author acts as an author."""
    aurora = await make_person(db, "aurora@example.org", "author")
    made = await api.post(
        "/v1/admin/tokens",
        json={"name": "Auroras Skript", "role": "admin", "user_id": str(aurora.id)},
        headers=bearer(token["admin"]),
    )
    secret = made.json()["token"]

    article = await create_draft(api, secret)
    publish = await api.post(f"/v1/admin/articles/{article['id']}/publish", headers=bearer(secret))
    users_list = await api.get("/v1/admin/users", headers=bearer(secret))

    assert made.json()["user_id"] == str(aurora.id)
    assert article["owner"] == "aurora@example.org"
    assert publish.status_code == 403
    assert users_list.status_code == 403


async def test_tokens_made_with_a_name_share_one_machine_user(
    db: asyncpg.Connection[Record],
) -> None:
    """Two tokens for one name belong to one machine user, whose role rises to the highest asked."""
    first = await tokens.create(db, name="Nachtdienst", role="author")
    second = await tokens.create(db, name="Nachtdienst", role="editor")

    assert first.user_id == second.user_id
    row = await db.fetchrow("SELECT kind, role, email FROM users WHERE id = $1", first.user_id)
    assert row is not None
    assert (row["kind"], row["role"], row["email"]) == ("machine", "editor", None)
    assert await count(db, "users") == 1


async def test_a_token_for_an_unknown_user_is_a_422(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Naming a user that does not exist makes no token."""
    before = await count(db, "api_tokens")
    response = await api.post(
        "/v1/admin/tokens",
        json={"name": "x", "role": "author", "user_id": "6f1c1a5e-0000-4000-8000-000000000000"},
        headers=bearer(token["admin"]),
    )

    assert response.status_code == 422
    assert await count(db, "api_tokens") == before
