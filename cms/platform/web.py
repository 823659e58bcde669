"""The HTTP edge: reading bodies and queries into models, writing JSON and ETags."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from cms.platform.errors import (
    BadRequest,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PreconditionRequired,
    UnsupportedMediaType,
)

M = TypeVar("M", bound=BaseModel)

JSON = "application/json"


def json_response(
    content: BaseModel | dict[str, Any] | list[Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    body = content.model_dump_json().encode() if isinstance(content, BaseModel) else orjson.dumps(content)
    return Response(body, status_code=status, headers=headers, media_type=JSON)


def etag(version: int) -> str:
    return f'"{version}"'


def cache_control(
    max_age: int,
    *,
    s_maxage: int | None = None,
    stale_while_revalidate: int | None = None,
    stale_if_error: int | None = None,
) -> dict[str, str]:
    """What public reads (delivery, feeds, sitemaps) may be cached for: `max-age` by browsers,
    `s-maxage` by shared caches (which a purge keeps fresh), served stale while one fetches
    anew (RFC 5861) or while the origin fails."""
    swr = max_age * 5 if stale_while_revalidate is None else stale_while_revalidate
    directives = [f"public, max-age={max_age}"]
    directives += [f"s-maxage={s_maxage}"] if s_maxage is not None else []
    directives.append(f"stale-while-revalidate={swr}")
    directives += [f"stale-if-error={stale_if_error}"] if stale_if_error is not None else []
    return {"Cache-Control": ", ".join(directives)}


# Previews, drafts, admin and error answers: for this client only, and not even kept by it.
NO_STORE = "private, no-store"


def none_match(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match names `tag` (weakly compared, RFC 9110 13.1.2) or is `*`."""
    if if_none_match is None:
        return False
    candidates = [part.strip().removeprefix("W/") for part in if_none_match.split(",")]
    return "*" in candidates or tag.removeprefix("W/") in candidates


def http_date(at: datetime) -> str:
    """An HTTP-date (RFC 9110 5.6.7), for Last-Modified."""
    return format_datetime(at.astimezone(UTC), usegmt=True)


def modified_since(if_modified_since: str | None, changed_at: datetime) -> bool:
    """False only when If-Modified-Since is a valid date at or after `changed_at`: a date that
    does not parse is ignored (RFC 9110 13.1.3), so the answer is the full representation."""
    if if_modified_since is None or len(if_modified_since) > 64:
        return True
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError, OverflowError):
        return True
    if since.tzinfo is None:
        return True
    # Last-Modified carried whole seconds: compare at that precision, or nothing ever matches.
    return changed_at.replace(microsecond=0) > since


async def read_json(request: Request, model: type[M], *, limit: int, optional: bool = False) -> M:
    """Validate the body as `model`: 415 for another media type, 413 past `limit`, 400/422."""
    raw = await _read_limited(request, limit)
    if not raw and optional:
        return model.model_validate({})
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != JSON and not media_type.endswith("+json"):
        raise UnsupportedMediaType(f"send the body as {JSON}, not {media_type or 'nothing'}")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    return validate(model, data, where="body")


def validate(model: type[M], data: Any, *, where: str) -> M:
    _check_plain_data(data, where)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"loc": [where, *error["loc"]], "msg": error["msg"]} for error in exc.errors()]
        raise InvalidInput(f"{len(errors)} invalid field(s) in the {where}", errors) from None


def parse_query(request: Request, model: type[M]) -> M:
    return validate(model, dict(request.query_params), where="query")


def path_uuid(request: Request, name: str = "id") -> uuid.UUID:
    """A malformed id names nothing, so it is a 404 like an unknown one."""
    try:
        return uuid.UUID(request.path_params[name])
    except ValueError:
        raise NotFound(f"no such {name}: it is not a UUID") from None


NO_VERSION = -1  # what an If-Match that names no version of ours is compared as: matches none


def required_if_match(request: Request) -> int | None:
    """The version the client edited; None for `*` (any version, RFC 9110 13.1.1)."""
    header = request.headers.get("if-match")
    if header is None:
        raise PreconditionRequired("send If-Match with the ETag of the version you edited")
    if header.strip() == "*":
        return None
    if header.strip().startswith("W/"):
        return NO_VERSION  # If-Match compares strongly (RFC 9110 13.1.1): a weak tag matches nothing
    version = parse_etag(header)
    return NO_VERSION if version is None else version


def parse_etag(header: str) -> int | None:
    text = header.strip()
    if text.startswith("W/"):
        text = text[2:]
    return whole_number(text.strip('"'))


_DIGITS = re.compile(r"[0-9]+")


def whole_number(text: str, max_digits: int = 9) -> int | None:
    """`text` as a number if it is ASCII digits only, else None. Not `str.isdigit`: that accepts
    "²", which `int` refuses (a 500), and "٣", which `int` reads as 3."""
    return int(text) if len(text) <= max_digits and _DIGITS.fullmatch(text) else None


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = whole_number(request.headers.get("content-length", ""), max_digits=18)
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"the body may be at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body may be at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


# No request of ours nests deeper than a handful of levels; a bound keeps every later walk
# (validation, logging, our own checks) far from Python's recursion limit.
MAX_DEPTH = 32


def _check_plain_data(data: Any, where: str) -> None:
    """Refuse what PostgreSQL text cannot hold (NUL) and nesting past MAX_DEPTH, walking the
    parsed JSON with a stack of its own: recursion would overflow on a deeply nested body."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise InvalidInput(
                    "text may not contain NUL characters", [{"loc": [where], "msg": "NUL character"}]
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise BadRequest(f"the {where} nests deeper than {MAX_DEPTH} levels")
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        stack.extend((item, depth + 1) for item in items)
