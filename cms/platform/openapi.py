"""Operations: one description per endpoint, from which both the routes and OpenAPI are built.

The same Pydantic models that validate a request describe it in `/openapi.json`, so the
document cannot drift from the behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cms.platform.tokens import Role

Endpoint = Callable[[Request], Awaitable[Response]]
# (model, mode) -> its `$ref`; keyed by Any because pydantic also accepts dataclasses there.
Refs = dict[tuple[Any, JsonSchemaMode], dict[str, Any]]

UUID_PARAM: dict[str, Any] = {"type": "string", "format": "uuid"}
SLUG_PARAM: dict[str, Any] = {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$"}
VERSION_PARAM: dict[str, Any] = {"type": "integer", "minimum": 1}

_PROBLEM_TITLES = {
    400: "Malformed request",
    401: "Missing, unknown or revoked token",
    403: "Role not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    412: "Stale If-Match",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Invalid input",
    428: "If-Match required",
    429: "Too many attempts: wait Retry-After seconds",
    503: "A dependency is unavailable",
}


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    required: bool = False


@dataclass(frozen=True)
class Operation:
    method: Literal["GET", "POST", "PATCH", "DELETE", "PUT"]
    path: str
    endpoint: Endpoint
    summary: str
    tag: str
    auth: Role | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_optional: bool = False
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: tuple[Header, ...] = ()
    response: type[BaseModel] | None = None
    status: int = 200
    media_type: str = "application/json"
    problems: tuple[int, ...] = ()
    extra_responses: dict[int, str] = field(default_factory=dict)

    def all_problems(self) -> list[int]:
        found = set(self.problems) | {503}
        if self.auth is not None:
            found |= {401, 403}
        if self.query is not None:
            found.add(422)
        if self.body is not None:
            found |= {400, 413, 415, 422}
        if self.path_params:
            found |= {404, 422} if any(s is VERSION_PARAM for s in self.path_params.values()) else {404}
        return sorted(found)


def routes(operations: Iterable[Operation]) -> list[Route]:
    return [Route(op.path, op.endpoint, methods=[op.method]) for op in operations]


def build_spec(operations: list[Operation], *, title: str, version: str) -> dict[str, Any]:
    refs, components = _schemas(operations)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    components["Problem"] = _PROBLEM_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _schemas(
    operations: list[Operation],
) -> tuple[Refs, dict[str, Any]]:
    wanted: set[tuple[type[BaseModel], JsonSchemaMode]] = set()
    for op in operations:
        if op.body is not None:
            wanted.add((op.body, "validation"))
        if op.response is not None:
            wanted.add((op.response, "serialization"))
    ordered = sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, top = models_json_schema(ordered, ref_template="#/components/schemas/{model}")
    return dict(refs), top.get("$defs", {})


def _operation(op: Operation, refs: Refs) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "summary": op.summary,
        "operationId": op.endpoint.__name__,
        "tags": [op.tag],
        "parameters": [*_path_parameters(op), *_query_parameters(op), *_header_parameters(op)],
        "responses": _responses(op, refs),
    }
    if op.auth is not None:
        spec["security"] = [{"bearer": []}]
        spec["description"] = (
            f"Needs a token, or a session cookie (with its X-CSRF-Token on writes), "
            f"of the {op.auth.name} role or higher."
        )
    if op.body is not None:
        spec["requestBody"] = {
            "required": not op.body_optional,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    return spec


def _path_parameters(op: Operation) -> list[dict[str, Any]]:
    names = re.findall(r"{(\w+)}", op.path)
    return [
        {"name": name, "in": "path", "required": True, "schema": op.path_params.get(name, {"type": "string"})}
        for name in names
    ]


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    schema = op.query.model_json_schema()
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": _strip_title(prop)}
        for name, prop in schema.get("properties", {}).items()
    ]


def _header_parameters(op: Operation) -> list[dict[str, Any]]:
    return [
        {
            "name": h.name,
            "in": "header",
            "required": h.required,
            "description": h.description,
            "schema": {"type": "string"},
        }
        for h in op.headers
    ]


def _responses(op: Operation, refs: Refs) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": op.summary}
    if op.response is not None:
        answer["content"] = {op.media_type: {"schema": refs[(op.response, "serialization")]}}
    elif op.media_type != "application/json":
        answer["content"] = {op.media_type: {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(op.status): answer}
    for status, description in op.extra_responses.items():
        responses[str(status)] = {"description": description}
    for status in op.all_problems():
        responses[str(status)] = {
            "description": _PROBLEM_TITLES[status],
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return responses


def _strip_title(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "title"}


_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}
