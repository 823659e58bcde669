"""The one map from errors to `application/problem+json` (RFC 9457)."""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from cms.platform import db
from cms.platform.errors import CmsError, Unavailable
from cms.platform.web import NO_STORE

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://cms.example/problems/"


def problem(
    status: int,
    title: str,
    *,
    detail: str | None = None,
    type_slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + type_slug if type_slug else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    # An error is never cached, by the client or a CDN: a 404 cached for a story about to be
    # published, or a 503 cached past the outage, would outlive its cause. No surrogate keys.
    sent = {**(headers or {}), "Cache-Control": NO_STORE}
    return Response(orjson.dumps(body), status_code=status, headers=sent, media_type=MEDIA_TYPE)


async def cms_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CmsError)
    return problem(
        exc.status,
        exc.title,
        detail=str(exc) or None,
        type_slug=exc.type_slug,
        headers=exc.response_headers(),
        **exc.extra,
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, exc.detail, headers=dict(exc.headers or {}))


async def database_unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database.unavailable", error=repr(exc))
    return await cms_error(request, Unavailable("the database is not reachable; try again shortly"))


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("request.failed")
    return problem(500, "Internal error", detail="something went wrong on our side; it was logged")


HANDLERS: dict[Any, Any] = {
    CmsError: cms_error,
    HTTPException: http_error,
    **{error: database_unavailable for error in db.UNREACHABLE},
    Exception: server_error,
}
