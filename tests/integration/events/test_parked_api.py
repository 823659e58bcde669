"""`/v1/admin/events/parked`: admins list parked events with the reason and unpark them over HTTP."""

from __future__ import annotations

import asyncpg
import httpx2

from tests.helpers import bearer, create_draft

PARKED = "SELECT sequence FROM outbox WHERE parked_at IS NOT NULL ORDER BY sequence"


async def _park_two(api: httpx2.AsyncClient, token: str, db: asyncpg.Connection[asyncpg.Record]) -> list[int]:
    """Two drafts' events parked as the relay parks a refused row: with a time and a reason."""
    for title in ("Vergiftet eins", "Vergiftet zwei"):
        draft = await create_draft(api, token, title=title)
        await db.execute(
            "UPDATE outbox SET parked_at = now(), parked_reason = 'too large for the broker'"
            " WHERE article_id = $1",
            draft["id"],
        )
    return [row["sequence"] for row in await db.fetch(PARKED)]


async def test_admins_see_parked_events_oldest_first_with_the_reason_and_the_total(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The list names each parked event and why, oldest first; `limit` bounds it, `total` counts all."""
    first, second = await _park_two(api, token["editor"], db)

    every = await api.get("/v1/admin/events/parked", headers=bearer(token["admin"]))
    one = await api.get("/v1/admin/events/parked", params={"limit": "1"}, headers=bearer(token["admin"]))

    assert every.status_code == 200, every.text
    assert [item["sequence"] for item in every.json()["items"]] == [first, second]
    assert {item["reason"] for item in every.json()["items"]} == {"too large for the broker"}
    assert every.json()["total"] == 2
    assert [item["sequence"] for item in one.json()["items"]] == [first]
    assert one.json()["total"] == 2


async def test_unpark_gives_the_named_events_back_and_says_which_were_not_parked(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """One sequence unparked frees it alone, an unknown one is reported (no error), `all` the rest."""
    first, second = await _park_two(api, token["editor"], db)

    named = await api.post(
        "/v1/admin/events/parked/unpark", json={"sequences": [first, 999999]}, headers=bearer(token["admin"])
    )

    assert named.status_code == 200, named.text
    assert named.json() == {"unparked": [first], "not_parked": [999999]}
    assert [row["sequence"] for row in await db.fetch(PARKED)] == [second]

    every = await api.post(
        "/v1/admin/events/parked/unpark", json={"all": True}, headers=bearer(token["admin"])
    )

    assert every.json() == {"unparked": [second], "not_parked": []}
    assert await db.fetch(PARKED) == []


async def test_only_admins_and_only_clear_requests_unpark_anything(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """An editor gets 403; an empty, ambiguous or malformed request a 422 problem; nothing is unparked."""
    parked = await _park_two(api, token["editor"], db)

    forbidden_list = await api.get("/v1/admin/events/parked", headers=bearer(token["editor"]))
    forbidden = await api.post(
        "/v1/admin/events/parked/unpark", json={"all": True}, headers=bearer(token["editor"])
    )
    assert forbidden_list.status_code == 403
    assert forbidden.status_code == 403
    bad_bodies: list[object] = [
        {},
        {"all": False},
        {"all": True, "sequences": [parked[0]]},
        {"sequences": []},
        {"sequences": [0]},
        {"sequences": ["eins"]},
        {"sequences": [parked[0]], "force": True},
        [parked[0]],
    ]
    for bad in bad_bodies:
        response = await api.post("/v1/admin/events/parked/unpark", json=bad, headers=bearer(token["admin"]))
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    bad_limit = await api.get(
        "/v1/admin/events/parked", params={"limit": "0"}, headers=bearer(token["admin"])
    )
    assert bad_limit.status_code == 422

    assert [row["sequence"] for row in await db.fetch(PARKED)] == parked
