"""`/admin/`: the editorial UI's pages and their built assets.

Each page is a server-rendered shell (escaped by Jinja2) and one module of the built front end;
the module reads and writes through the JSON API as the signed-in person. Nothing here touches
the database: a page is as fast as a static file, and holds no rule the API does not enforce.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from cms.admin_ui import assets
from cms.platform import web
from cms.platform.errors import CmsError, NotFound
from cms.platform.openapi import UUID_PARAM, Operation

# No inline script or style anywhere; images in articles come from their own sites (https).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
# Built names carry a content hash: a new build is a new name, so a year's caching is safe.
_ASSET_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=31536000, immutable"}
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".woff2": "font/woff2"}
_TEMPLATES = Path(__file__).parent / "templates"


class FrontEndNotBuilt(CmsError):
    status = 503
    title = "The editorial UI is not built"


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(default=True))


def _built() -> assets.Assets:
    try:
        return _load_assets()
    except assets.AssetsMissing as missing:
        raise FrontEndNotBuilt(str(missing)) from None


@cache
def _load_assets() -> assets.Assets:
    return assets.load()


def _page(template: str, entry: str, **context: object) -> Response:
    html = _environment().get_template(template).render(entry=_built().entry(entry), **context)
    return HTMLResponse(html, headers=_PAGE_HEADERS)


async def articles_page(request: Request) -> Response:
    return _page("articles.html", "articles", title="Articles", nav="articles")


async def editor_page(request: Request) -> Response:
    article_id = web.path_uuid(request)
    return _page("editor.html", "editor", title="Edit article", nav="articles", article_id=str(article_id))


async def signin_page(request: Request) -> Response:
    return _page("signin.html", "signin", title="Sign in", nav=None)


async def operators_page(request: Request) -> Response:
    return _page("operators.html", "operators", title="Operators", nav="operators")


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    found = assets.file(assets.DIST, name)
    if found is None:
        raise NotFound(f"no asset {name!r}")
    return FileResponse(
        found, media_type=_MEDIA_TYPES.get(found.suffix, "application/octet-stream"), headers=_ASSET_HEADERS
    )


_TAG = "editorial-ui"
_HTML = "text/html"

def _asset_name() -> dict[str, object]:
    """The built names, as the document's enum (so a client or a fuzzer names real ones)."""
    names = assets.built_names()
    if names:
        return {"type": "string", "enum": names}
    return {"type": "string", "maxLength": 200, "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"}


OPERATIONS = [
    Operation("GET", "/admin/", articles_page, "The editorial UI: the article list", _TAG, media_type=_HTML),
    Operation("GET", "/admin/signin", signin_page, "The editorial UI: sign in", _TAG, media_type=_HTML),
    Operation(
        "GET",
        "/admin/articles/{id}",
        editor_page,
        "The editorial UI: the editor for one article",
        _TAG,
        path_params={"id": UUID_PARAM},
        media_type=_HTML,
    ),
    Operation(
        "GET",
        "/admin/operators",
        operators_page,
        "The editorial UI: the operators' page",
        _TAG,
        media_type=_HTML,
    ),
    Operation(
        "GET",
        "/admin/assets/{name}",
        asset,
        "The editorial UI's built scripts and styles",
        _TAG,
        path_params={"name": _asset_name()},
        media_type="text/javascript",
    ),
]
