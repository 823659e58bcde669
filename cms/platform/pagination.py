"""Opaque cursors for keyset pagination, and the page shape every list answers with."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from cms.platform.errors import InvalidInput

T = TypeVar("T")

Limit = Annotated[int, Field(ge=1, le=100, description="page size, 1-100")]
Cursor = Annotated[str, Field(max_length=200, description="next_cursor of the previous page")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: Limit = 20
    cursor: Cursor | None = None


# Every list in the project pages with these cursors: opaque, URL-safe base64 of a small JSON
# array, and every way a cursor can be wrong (not base64, not JSON, another shape, a time off
# the calendar, a number out of range) is the one 422 below, never an error further in.


def _pack(values: list[object]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def _unpack(cursor: str, size: int) -> list[Any]:
    """The cursor's array of `size` values; ValueError for anything else."""
    values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    if not isinstance(values, list) or len(values) != size:
        raise ValueError("not a cursor of ours")
    return values


def encode(at: datetime, item_id: uuid.UUID) -> str:
    """A keyset cursor: the sort time and id of the last item of the page."""
    return _pack([at.isoformat(), str(item_id)])


def decode(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        at_text, id_text = _unpack(cursor, 2)
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None:
            raise ValueError("naive timestamp")
        # In UTC, as the database driver will send it: an offset can push year 1 or 9999 out
        # of the calendar (OverflowError), which must be this 422, not a 500 in the driver.
        return at.astimezone(UTC), uuid.UUID(id_text)
    except (ValueError, TypeError, OverflowError, binascii.Error, orjson.JSONDecodeError):
        raise invalid_cursor() from None


_OFFSET = "o"


def encode_offset(offset: int) -> str:
    """An offset cursor, for lists ordered by something no key can resume (search rank)."""
    return _pack([_OFFSET, offset])


def decode_offset(cursor: str | None, maximum: int) -> int:
    """0 for no cursor; the offset a cursor of ours carries, if it is at most `maximum`."""
    if cursor is None:
        return 0
    try:
        kind, offset = _unpack(cursor, 2)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise invalid_cursor() from None
    if kind != _OFFSET or type(offset) is not int or not 0 <= offset <= maximum:
        raise invalid_cursor()
    return offset


def invalid_cursor() -> InvalidInput:
    return InvalidInput(
        "the cursor is not one this API gave out", [{"loc": ["query", "cursor"], "msg": "invalid cursor"}]
    )
