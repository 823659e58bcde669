"""Who is calling: a bearer token's user (machines, scripts) or a browser session's (people),
checked per endpoint against a minimum role.

A request authenticated by the session cookie that changes state (POST, PUT, PATCH, DELETE) must
also prove it comes from our own pages: an Origin (or Referer) that, when sent, is CMS_PUBLIC_URL's,
and the session's CSRF token in `X-CSRF-Token`. Bearer requests need neither: a browser never adds
an Authorization header to a cross-site request on its own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from cms.platform import deps, sessions, tokens, users
from cms.platform.db import Connection
from cms.platform.errors import Forbidden, Unauthorized
from cms.platform.identity import SYSTEM, Actor
from cms.platform.roles import Role
from cms.platform.settings import PlatformSettings

__all__ = ["CSRF_HEADER", "SYSTEM", "Actor", "address", "authenticate", "identify", "session_secret"]

CSRF_HEADER = "X-CSRF-Token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def authenticate(conn: Connection, request: Request, minimum: Role) -> Actor:
    """The caller, if their token or session is valid and their role at least `minimum`: else
    401 (who are you?) or 403 (not allowed, or a cookie request without its CSRF proof)."""
    actor = await identify(conn, request)
    if not actor.at_least(minimum):
        raise Forbidden(f"this needs the {minimum.name} role; you have {actor.role.name}")
    return actor


async def identify(conn: Connection, request: Request) -> Actor:
    if "authorization" in request.headers:
        return await _by_token(conn, _bearer(request))
    settings = deps.settings(request)
    secret = session_secret(request, settings)
    if secret is None:
        raise Unauthorized("send `Authorization: Bearer <token>`, or sign in at /v1/auth/session")
    return await _by_session(conn, request, secret, settings)


def session_secret(request: Request, settings: PlatformSettings) -> str | None:
    return request.cookies.get(sessions.cookie_name(settings)) or None


def address(request: Request) -> str | None:
    """The client's address (uvicorn takes it from X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else None


async def _by_token(conn: Connection, secret: str) -> Actor:
    info = await tokens.find_active(conn, secret)
    user = None if info is None else await users.get(conn, info.user_id)
    if info is None or user is None or user.disabled:
        raise Unauthorized("the token is unknown or revoked, or its user is disabled")
    actor = users.actor_of(user)
    # The token's role is its ceiling: a person's token never does more than its holder.
    return Actor(actor.name, min(actor.role, Role[info.role]), actor.user_id, actor.display_name)


async def _by_session(conn: Connection, request: Request, secret: str, settings: PlatformSettings) -> Actor:
    session = await sessions.find(conn, secret, settings)
    user = None if session is None else await users.get(conn, session.user_id)
    if user is None or user.disabled:
        raise Unauthorized("the session has expired or was ended: sign in again")
    if request.method in _UNSAFE:
        check_origin(request, settings)
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not sessions.csrf_matches(secret, sent):
            raise Forbidden(f"send the session's CSRF token (GET /v1/auth/session) in {CSRF_HEADER}")
    return users.actor_of(user)


def check_origin(request: Request, settings: PlatformSettings) -> None:
    """403 when the request names another site as its origin (Origin, else Referer)."""
    expected = _origin(settings.public_url)
    sent = request.headers.get("origin") or request.headers.get("referer")
    if sent is not None and _origin(sent) != expected:
        raise Forbidden("cross-site request refused: its Origin is not this site's (CMS_PUBLIC_URL)")


def _origin(url: str) -> str | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None  # `Origin: null` (sandboxed, file:) is no site of ours
    default = 443 if parts.scheme.lower() == "https" else 80
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme.lower()}://{parts.hostname.lower()}{suffix}"


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send `Authorization: Bearer <token>`")
    return secret.strip()
