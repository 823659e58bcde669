"""The HTTP toolkit consumers build their APIs with (shared with the content API, so errors,
OpenAPI and paging look the same everywhere). Consumers import it from here, not from `cms`."""

from __future__ import annotations

from cms.errors import Conflict, InvalidInput, NotFound, Unavailable
from cms.openapi import UUID_PARAM, Operation
from cms.pagination import Limit, invalid_cursor
from cms.tokens import Role
from cms.web import json_response, parse_query, path_uuid, read_json

__all__ = [
    "UUID_PARAM",
    "Conflict",
    "InvalidInput",
    "Limit",
    "NotFound",
    "Operation",
    "Role",
    "Unavailable",
    "invalid_cursor",
    "json_response",
    "parse_query",
    "path_uuid",
    "read_json",
]
