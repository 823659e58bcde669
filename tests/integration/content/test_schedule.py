"""The editorial calendar: embargoes and expiries in a window, oldest first, paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx2
import pytest

from tests.helpers import action, bearer, create_draft, publish

Record = asyncpg.Record


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def scheduled(api: httpx2.AsyncClient, token: str, title: str, at: datetime) -> dict[str, Any]:
    draft = await create_draft(api, token, title=title)
    response = await action(api, token, draft, "publish", {"publish_at": iso(at)})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def expiring(
    api: httpx2.AsyncClient, token: str, article: dict[str, Any], at: datetime
) -> dict[str, Any]:
    response = await action(api, token, article, "unpublish", {"unpublish_at": iso(at)})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def calendar(api: httpx2.AsyncClient, token: str, **params: str) -> httpx2.Response:
    return await api.get("/v1/admin/schedule", params=params, headers=bearer(token))


@pytest.fixture
async def week(api: httpx2.AsyncClient, token: dict[str, str]) -> dict[str, Any]:
    """Scheduled, expiring, far-off, draft and deleted articles around the next days."""
    now = datetime.now(UTC)
    editor = token["editor"]
    embargo = await scheduled(api, editor, "Embargo", now + timedelta(days=1))
    both = await expiring(
        api, editor, await scheduled(api, editor, "Beides", now + timedelta(days=2)), now + timedelta(days=3)
    )
    live = await expiring(
        api,
        editor,
        await publish(api, editor, await create_draft(api, editor, title="Läuft ab")),
        now + timedelta(days=5),
    )
    await scheduled(api, editor, "Fern", now + timedelta(days=40))
    await create_draft(api, editor, title="Entwurf")
    gone = await scheduled(api, editor, "Gelöscht", now + timedelta(days=1, hours=1))
    deleted = await api.delete(
        f"/v1/admin/articles/{gone['id']}", headers={**bearer(editor), "If-Match": f'"{gone["version"]}"'}
    )
    assert deleted.status_code == 204
    return {"now": now, "embargo": embargo, "both": both, "live": live}


async def test_the_calendar_lists_embargoes_and_expiries_in_time_order(
    api: httpx2.AsyncClient, token: dict[str, str], week: dict[str, Any]
) -> None:
    """Embargoes and expiries in the window, oldest first; far-off, draft and deleted ones left out."""
    now = week["now"]
    response = await calendar(api, token["author"], **{"from": iso(now), "to": iso(now + timedelta(days=10))})

    assert response.status_code == 200, response.text
    entries = [(e["action"], e["article"]["title"]) for e in response.json()["items"]]
    assert entries == [
        ("publish", "Embargo"),
        ("publish", "Beides"),
        ("unpublish", "Beides"),
        ("unpublish", "Läuft ab"),
    ]
    first = response.json()["items"][0]
    assert datetime.fromisoformat(first["at"]) == datetime.fromisoformat(week["embargo"]["publish_at"])
    assert first["article"]["status"] == "scheduled"
    assert response.json()["order"] == "time"
    assert response.json()["next_cursor"] is None


async def test_the_calendar_pages_with_a_cursor_and_defaults_to_the_coming_week(
    api: httpx2.AsyncClient, token: dict[str, str], week: dict[str, Any]
) -> None:
    """Three entries a page, the cursor resumes after the last; without a window it shows the next 7 days."""
    first = await calendar(api, token["editor"], limit="3")
    second = await calendar(api, token["editor"], limit="3", cursor=first.json()["next_cursor"])

    titles = [e["article"]["title"] for e in first.json()["items"] + second.json()["items"]]
    assert titles == ["Embargo", "Beides", "Beides", "Läuft ab"]
    assert second.json()["next_cursor"] is None
    start = datetime.fromisoformat(first.json()["start"])
    end = datetime.fromisoformat(first.json()["end"])
    assert end - start == timedelta(days=7)


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"from": "2026-01-01T00:00:00"},
        {"from": "9999-12-31T23:00:00Z"},
        {"from": "0001-01-01T00:00:00+05:00"},
        {"limit": "501"},
        {"cursor": "nonsense"},
    ],
    ids=["too-long", "backwards", "naive", "past-the-calendar", "before-the-calendar", "limit", "cursor"],
)
async def test_a_window_that_is_too_long_backwards_or_off_the_calendar_is_a_422(
    api: httpx2.AsyncClient, token: dict[str, str], params: dict[str, str]
) -> None:
    """More than 31 days, `to` before `from`, a time without offset or off the calendar: 422, never a 500."""
    response = await calendar(api, token["editor"], **params)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
