"""The HTTP toolkit consumers build their APIs with (shared with the content API, so errors,
OpenAPI and paging look the same everywhere). Consumers import it from here, not from `cms`."""

from __future__ import annotations

from starlette.requests import Request

from cms.platform import auth, deps
from cms.platform.errors import Conflict, InvalidInput, NotFound, Unavailable
from cms.platform.identity import Actor
from cms.platform.openapi import UUID_PARAM, Operation
from cms.platform.pagination import Cursor, Limit, decode_offset, encode_offset, invalid_cursor
from cms.platform.pagination import decode as decode_cursor
from cms.platform.pagination import encode as encode_cursor
from cms.platform.tokens import Role
from cms.platform.web import json_response, parse_query, path_uuid, read_json


async def require_role(request: Request, role: Role) -> Actor:
    """The caller behind the bearer token (checked against the main database's tokens):
    401 without a valid token, 403 below `role`."""
    async with deps.pool(request).acquire() as conn:
        return await auth.authenticate(conn, request, role)


__all__ = [
    "UUID_PARAM",
    "Actor",
    "Conflict",
    "Cursor",
    "InvalidInput",
    "Limit",
    "NotFound",
    "Operation",
    "Role",
    "Unavailable",
    "decode_cursor",
    "decode_offset",
    "encode_cursor",
    "encode_offset",
    "invalid_cursor",
    "json_response",
    "parse_query",
    "path_uuid",
    "read_json",
    "require_role",
]
