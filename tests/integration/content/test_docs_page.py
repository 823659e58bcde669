"""/docs works offline: Swagger UI comes from this process, under a policy that allows nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx2
import pytest

from cms.platform.application import create_ops_app
from cms.system import SystemSettings

ALLOWED_SOURCES = {"'self'", "'none'", "data:"}


class _Page(HTMLParser):
    """The URLs a page loads or links to, and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value is not None]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


async def _page(client: httpx2.AsyncClient) -> tuple[httpx2.Response, _Page]:
    response = await client.get("/docs")
    page = _Page()
    page.feed(response.text)
    return response, page


def _policy(response: httpx2.Response) -> dict[str, list[str]]:
    header = response.headers["content-security-policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: sources for name, *sources in directives}


@pytest.fixture
async def worker_port(settings: SystemSettings) -> AsyncIterator[httpx2.AsyncClient]:
    """The HTTP face of a worker process (`cms relay`, `cms-consumer NAME`)."""
    app = create_ops_app(settings, [], name="docs-test")
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://worker.test") as client:
            yield client


async def test_docs_page_references_no_other_host(api: httpx2.AsyncClient) -> None:
    """Every URL the page loads is a path on this origin; no CDN, no inline script."""
    response, page = await _page(api)
    init = await api.get("/docs/init.js")

    assert response.status_code == 200
    assert sorted(page.urls) == [
        "/docs/init.js",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/openapi.json",
    ]
    assert "://" not in response.text
    assert page.inline_scripts == []
    assert "://" not in init.text
    assert '"/openapi.json"' in init.text


async def test_docs_assets_are_served_here_with_their_content_types(api: httpx2.AsyncClient) -> None:
    """The stylesheet and scripts the page loads answer 200 with the type a browser will run."""
    expected = {
        "/docs/swagger-ui.css": "text/css",
        "/docs/swagger-ui-bundle.js": "text/javascript",
        "/docs/init.js": "text/javascript",
    }
    _, page = await _page(api)

    for url, media_type in expected.items():
        asset = await api.get(url)

        assert url in page.urls
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].split(";")[0] == media_type, url
        assert asset.headers["x-content-type-options"] == "nosniff", url
        assert len(asset.content) > 0, url
    assert b"SwaggerUIBundle" in (await api.get("/docs/swagger-ui-bundle.js")).content


async def test_docs_page_policy_allows_only_this_origin(api: httpx2.AsyncClient) -> None:
    """The page's Content-Security-Policy names no host and allows no inline or eval'd script."""
    response, _ = await _page(api)
    policy = _policy(response)

    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert {source for sources in policy.values() for source in sources} <= ALLOWED_SOURCES


async def test_a_worker_port_serves_the_same_offline_docs(worker_port: httpx2.AsyncClient) -> None:
    """Relay and consumer processes serve /docs the same way: local assets, the same policy."""
    response, page = await _page(worker_port)
    bundle = await worker_port.get("/docs/swagger-ui-bundle.js")

    assert response.status_code == 200
    assert "://" not in response.text
    assert _policy(response)["script-src"] == ["'self'"]
    assert "/docs/swagger-ui-bundle.js" in page.urls
    assert bundle.status_code == 200
