"""The admin list as the editorial UI shows it: who holds each article's lock, and a byline filter."""

from __future__ import annotations

import httpx2

from tests.helpers import bearer, create_draft


async def test_the_admin_list_names_who_is_editing_each_article(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A live lock shows its holder on its article's row; an article nobody edits shows none."""
    edited = await create_draft(api, token["editor"], title="In Arbeit")
    idle = await create_draft(api, token["editor"], title="Ruht")
    locked = await api.post(f"/v1/admin/articles/{edited['id']}/lock", headers=bearer(token["editor"]))
    assert locked.status_code == 200, locked.text

    response = await api.get("/v1/admin/articles", headers=bearer(token["author"]))

    assert response.status_code == 200
    rows = {item["id"]: item for item in response.json()["items"]}
    assert rows[edited["id"]]["lock"]["holder"] == "eddie"
    assert rows[idle["id"]]["lock"] is None


async def test_the_admin_list_filters_by_byline(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """`author=` keeps the articles with that byline, and only those; an unknown byline finds none."""
    mine = await create_draft(api, token["editor"], title="Von Anna", authors=["Anna Schmidt", "Ben Ott"])
    await create_draft(api, token["editor"], title="Von Ben", authors=["Ben Ott"])

    found = await api.get(
        "/v1/admin/articles", params={"author": "Anna Schmidt"}, headers=bearer(token["editor"])
    )
    nobody = await api.get(
        "/v1/admin/articles", params={"author": "Niemand"}, headers=bearer(token["editor"])
    )

    assert found.status_code == 200
    assert [item["id"] for item in found.json()["items"]] == [mine["id"]]
    assert nobody.json()["items"] == []
