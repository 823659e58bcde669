"""Trailing-slash redirects answer with a path, whatever the request's Host header says."""

from __future__ import annotations

import httpx2

EVIL = "evil.example"


async def test_slash_redirect_location_is_a_path_not_the_forged_host(api: httpx2.AsyncClient) -> None:
    """A forged Host header can't make our redirect point at another site."""
    response = await api.get("/v1/content/articles/?limit=5", headers={"Host": EVIL})

    assert response.status_code == 307
    assert response.headers["location"] == "/v1/content/articles?limit=5"
    assert EVIL not in response.headers["location"]
    assert "://" not in response.headers["location"]


async def test_missing_trailing_slash_is_added_with_a_relative_location(api: httpx2.AsyncClient) -> None:
    """Both directions of the rule still redirect, only relatively: /healthz/ → /healthz."""
    stripped = await api.get("/healthz/", headers={"Host": EVIL})
    followed = await api.get(stripped.headers["location"])

    assert stripped.status_code == 307
    assert stripped.headers["location"] == "/healthz"
    assert followed.status_code == 200


async def test_a_path_no_route_names_is_a_404_problem_not_a_redirect(api: httpx2.AsyncClient) -> None:
    """Only a path that a route really serves is redirected to; anything else stays a 404."""
    for path in ["/nothing-here/", "//evil.example/", "/v1/nothing/"]:
        response = await api.get(path, headers={"Host": EVIL})

        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json", path
        assert "location" not in response.headers, path
