"""Sign-in for browsers: a session cookie, who am I (with the CSRF token), sign-out, and sign-out
everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.platform import audit, auth, deps, sessions, signin, users, web
from cms.platform.errors import Conflict
from cms.platform.openapi import Operation
from cms.platform.roles import Role
from cms.platform.settings import PlatformSettings

_NO_STORE = {"Cache-Control": "no-store"}
_MAX_BODY = 8 * 1024


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class SessionInfo(BaseModel):
    user: users.UserInfo
    csrf_token: str | None = Field(description="send it in X-CSRF-Token; null when signed in by token")
    idle_expires_at: datetime | None
    expires_at: datetime | None


async def create_session(request: Request) -> Response:
    settings = deps.settings(request)
    auth.check_origin(request, settings)  # nobody signs a browser in from another site
    body = await web.read_json(request, SignIn, limit=_MAX_BODY)
    done = await signin.sign_in(
        deps.pool(request),
        deps.services(request).hashing,
        settings,
        email=body.email,
        password=body.password,
        address=auth.address(request),
    )
    info = SessionInfo(
        user=done.user,
        csrf_token=sessions.csrf_token(done.secret),
        idle_expires_at=done.session.idle_expires_at,
        expires_at=done.session.expires_at,
    )
    response = web.json_response(info, 201, _NO_STORE)
    _set_cookie(response, settings, done.secret)
    return response


async def current_session(request: Request) -> Response:
    settings = deps.settings(request)
    async with deps.pool(request).acquire() as conn:
        actor = await auth.authenticate(conn, request, Role.author)
        assert actor.user_id is not None
        user = await users.get(conn, actor.user_id)
        secret = None if "authorization" in request.headers else auth.session_secret(request, settings)
        session = None if secret is None else await sessions.find(conn, secret, settings)
    assert user is not None
    info = SessionInfo(
        user=user,
        csrf_token=None if secret is None else sessions.csrf_token(secret),
        idle_expires_at=None if session is None else session.idle_expires_at,
        expires_at=None if session is None else session.expires_at,
    )
    return web.json_response(info, 200, _NO_STORE)


async def end_session(request: Request) -> Response:
    settings = deps.settings(request)
    async with deps.pool(request).acquire() as conn:
        actor = await auth.authenticate(conn, request, Role.author)
        secret = None if "authorization" in request.headers else auth.session_secret(request, settings)
        if secret is None:
            raise Conflict("signed in with a token, there is no session to end: revoke the token instead")
        await sessions.end(conn, secret)
    audit.record("signout", actor=actor.name, address=auth.address(request))
    response = Response(status_code=204, headers=_NO_STORE)
    _clear_cookie(response, settings)
    return response


async def end_all_sessions(request: Request) -> Response:
    settings = deps.settings(request)
    async with deps.pool(request).acquire() as conn:
        actor = await auth.authenticate(conn, request, Role.author)
        assert actor.user_id is not None
        ended = await sessions.end_all(conn, actor.user_id)
    audit.record("signout.everywhere", actor=actor.name, address=auth.address(request), sessions=ended)
    response = Response(status_code=204, headers=_NO_STORE)
    _clear_cookie(response, settings)
    return response


def _set_cookie(response: Response, settings: PlatformSettings, secret: str) -> None:
    response.set_cookie(
        sessions.cookie_name(settings),
        secret,
        max_age=int(settings.session_absolute_timeout.total_seconds()),
        path="/",
        secure=sessions.is_secure(settings),
        httponly=True,
        samesite="lax",
    )


def _clear_cookie(response: Response, settings: PlatformSettings) -> None:
    secure = sessions.is_secure(settings)
    name = sessions.cookie_name(settings)
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")


OPERATIONS = [
    Operation(
        "POST",
        "/v1/auth/session",
        create_session,
        "Sign in: a session cookie (HttpOnly, SameSite=Lax, Secure over https) and its CSRF token",
        "auth",
        body=SignIn,
        response=SessionInfo,
        status=201,
        problems=(401, 403, 429),
    ),
    Operation(
        "GET",
        "/v1/auth/session",
        current_session,
        "Who am I: the signed-in user and the session's CSRF token",
        "auth",
        auth=Role.author,
        response=SessionInfo,
    ),
    Operation(
        "DELETE",
        "/v1/auth/session",
        end_session,
        "Sign out: this session ends",
        "auth",
        auth=Role.author,
        status=204,
        problems=(409,),
    ),
    Operation(
        "POST",
        "/v1/auth/sessions/revoke",
        end_all_sessions,
        "Sign out everywhere: every session of mine ends",
        "auth",
        auth=Role.author,
        status=204,
    ),
]
