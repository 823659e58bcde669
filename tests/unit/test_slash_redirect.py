"""The trailing-slash rule: which paths redirect, and that the Location is always a local path."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from cms.platform.redirects import SlashRedirect


async def _endpoint(request: Request) -> Response:
    return Response()


async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("not called by location()")


def _scope(path: str, query: bytes = b"") -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "query_string": query,
        "headers": [],
    }


def _location(routes: list[Route], path: str, query: bytes = b"") -> str | None:
    return SlashRedirect(routes, fallback=_not_found).location(_scope(path, query))


def test_location_is_the_other_spelling_of_a_served_path_with_its_query() -> None:
    """`/a/` → `/a` and `/b` → `/b/`, query kept; an unserved path gets no redirect."""
    routes = [Route("/a", _endpoint), Route("/b/", _endpoint)]

    assert _location(routes, "/a/", b"x=1") == "/a?x=1"
    assert _location(routes, "/b") == "/b/"
    assert _location(routes, "/c/") is None
    assert _location(routes, "/") is None


def test_a_path_that_would_read_as_another_host_is_never_a_location() -> None:
    """Even a catch-all route can't turn `//evil.example/` into `Location: //evil.example`."""
    routes = [Route("/{rest:path}", _endpoint)]

    assert _location(routes, "//evil.example/") is None
    assert _location(routes, "/fine/") == "/fine"


def test_characters_of_the_decoded_path_stay_in_the_path() -> None:
    """A `?` or `%` that was percent-encoded in the path is encoded again, not read as a query."""
    routes = [Route("/{name}", _endpoint)]

    assert _location(routes, "/a?b%c/") == "/a%3Fb%25c"
