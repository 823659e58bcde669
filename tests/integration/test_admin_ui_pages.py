"""The editorial UI's pages over HTTP: a strict CSP with no inline script, the built assets they
name served from this origin, and nothing else served from the asset route."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2
import pytest

from cms.admin_ui import assets

EDITOR = "/admin/articles/0b0c6a9e-2f1e-4a1e-9a55-3c0d8e8f1d11"
PAGES = ["/admin/", "/admin/signin", "/admin/operators", EDITOR]


@pytest.mark.parametrize("path", PAGES)
async def test_each_page_has_a_strict_csp_and_only_scripts_from_this_origin(
    api: httpx2.AsyncClient, path: str
) -> None:
    """Every page forbids inline script and other origins, and loads only built files it names."""
    response = await api.get(path)

    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["cache-control"] == "no-store"
    scripts = re.findall(r"<script\b[^>]*>", response.text)
    assert scripts
    assert all('src="/admin/assets/' in tag for tag in scripts)
    assert "<script>" not in response.text
    for url in re.findall(r'(?:src|href)="(/admin/assets/[^"]+)"', response.text):
        asset = await api.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
        assert "immutable" in asset.headers["cache-control"]


async def test_the_bare_admin_path_redirects_to_the_list(api: httpx2.AsyncClient) -> None:
    """/admin redirects to /admin/ (the platform's slash rule), not a 404."""
    response = await api.get("/admin")
    followed = await api.get("/admin", follow_redirects=True)

    assert response.status_code in (307, 308)
    assert followed.status_code == 200
    assert str(followed.url).endswith("/admin/")


@pytest.mark.parametrize("name", ["..%2F..%2Fpyproject.toml", ".vite", "manifest.json", "nope.js", "a%00.js"])
async def test_the_asset_route_serves_nothing_but_built_assets(api: httpx2.AsyncClient, name: str) -> None:
    """Traversal, hidden files, unknown names and odd bytes are a 404 problem, never a file."""
    response = await api.get(f"/admin/assets/{name}")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_editor_page_for_a_malformed_id_is_a_404(api: httpx2.AsyncClient) -> None:
    """The editor's path names an article by UUID: anything else names nothing."""
    response = await api.get("/admin/articles/not-a-uuid")

    assert response.status_code == 404
    assert "content-security-policy" not in response.headers


def test_a_missing_build_is_named_with_the_command_that_makes_it(tmp_path: Path) -> None:
    """Without a built front end the loader says to run `make install`, instead of failing later."""
    with pytest.raises(assets.AssetsMissing, match="make install"):
        assets.load(tmp_path)
