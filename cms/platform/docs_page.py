"""`/docs`: Swagger UI served by this process, from the swagger-ui-bundle-v2 package.

Nothing comes from a CDN, so the page works offline and in an air-gapped newsroom, and its
Content-Security-Policy lets it load only from this origin.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

from cms.platform.openapi import Operation

SWAGGER_UI = Path(swagger_ui_path)

# `data:` images: swagger-ui.css draws its icons as inline SVG. No inline script or style.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>CMS API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
<noscript>The API is described in <a href="/openapi.json">/openapi.json</a>.</noscript>
</body></html>"""

# A file, not an inline script, so the policy needs no 'unsafe-inline'. validatorUrl: Swagger
# UI would otherwise send the document's URL to its public validator for a badge.
_INIT = b'SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", validatorUrl: null});\n'

_JS = "text/javascript"
_NOT_SNIFFED = {"X-Content-Type-Options": "nosniff"}


def docs_operations() -> list[Operation]:
    """The page and the three files it loads: documented like every other route."""

    async def page(request: Request) -> Response:
        return HTMLResponse(
            _PAGE,
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Referrer-Policy": "no-referrer"},
        )

    async def stylesheet(request: Request) -> Response:
        return FileResponse(SWAGGER_UI / "swagger-ui.css", media_type="text/css", headers=_NOT_SNIFFED)

    async def bundle(request: Request) -> Response:
        return FileResponse(SWAGGER_UI / "swagger-ui-bundle.js", media_type=_JS, headers=_NOT_SNIFFED)

    async def init(request: Request) -> Response:
        return Response(_INIT, media_type=_JS, headers=_NOT_SNIFFED)

    tag = "operations"
    return [
        Operation("GET", "/docs", page, "This document, rendered", tag, media_type="text/html"),
        Operation(
            "GET",
            "/docs/swagger-ui.css",
            stylesheet,
            "The docs page's stylesheet",
            tag,
            media_type="text/css",
        ),
        Operation(
            "GET", "/docs/swagger-ui-bundle.js", bundle, "Swagger UI, for the docs page", tag, media_type=_JS
        ),
        Operation("GET", "/docs/init.js", init, "The docs page's start-up script", tag, media_type=_JS),
    ]
