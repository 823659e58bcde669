"""Trailing-slash redirects whose `Location` is a path, never a URL built from `Host`.

Starlette's router redirects `/healthz/` to `/healthz` with an absolute URL made from the
request's `Host` header, so any client (or a cache in front of us, keyed without `Host`) can
get `Location: http://<a host of the client's choosing>/healthz` back from our origin. A
relative reference resolves against the URL the client really used (RFC 9110 10.2.2), so
the path and query are all a redirect needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send


def relative_slash_redirects(router: Router) -> None:
    """Replace `router`'s own slash redirect with `SlashRedirect` (same rule, relative Location)."""
    router.redirect_slashes = False
    router.default = SlashRedirect(router.routes, fallback=router.default)


class SlashRedirect:
    """The router's fallback: when the path with (or without) its trailing slash names a
    route, redirect there; otherwise hand the request to `fallback` (the usual 404)."""

    def __init__(self, routes: Sequence[BaseRoute], *, fallback: ASGIApp) -> None:
        self.routes = routes
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        location = self.location(scope) if scope["type"] == "http" else None
        if location is None:
            await self.fallback(scope, receive, send)
            return
        await RedirectResponse(location)(scope, receive, send)

    def location(self, scope: Scope) -> str | None:
        path: str = scope["path"]  # includes root_path, as a Location must
        other = path.rstrip("/") if path.endswith("/") else path + "/"
        # "" (from "/") names nothing; `//host/…` is a reference to another host.
        if not other.startswith("/") or other.startswith("//"):
            return None
        candidate = {**scope, "path": other}
        if all(route.matches(candidate)[0] is Match.NONE for route in self.routes):
            return None
        query: bytes = scope.get("query_string", b"")
        # The path is decoded; encode it again so `?`, `#` and `%` in it stay part of the path.
        return quote(other) + ("?" + query.decode("latin-1") if query else "")
