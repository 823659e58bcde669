"""Who is calling: the bearer token's holder and role, checked per endpoint."""

from __future__ import annotations

from starlette.requests import Request

from cms.platform import tokens
from cms.platform.db import Connection
from cms.platform.errors import Forbidden, Unauthorized
from cms.platform.identity import SYSTEM, Actor
from cms.platform.tokens import Role

__all__ = ["SYSTEM", "Actor", "authenticate"]


async def authenticate(conn: Connection, request: Request, minimum: Role) -> Actor:
    """The caller, if their token is valid and their role at least `minimum`: else 401 or 403."""
    info = await tokens.find_active(conn, _bearer(request))
    if info is None:
        raise Unauthorized("the token is unknown or revoked")
    actor = Actor(name=info.name, role=Role[info.role])
    if not actor.at_least(minimum):
        raise Forbidden(f"this needs the {minimum.name} role; the token has {actor.role.name}")
    return actor


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send `Authorization: Bearer <token>`")
    return secret.strip()
