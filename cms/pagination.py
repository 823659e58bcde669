"""Opaque cursors for keyset pagination, and the page shape every list answers with."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from cms.errors import InvalidInput

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


def encode(at: datetime, item_id: uuid.UUID) -> str:
    raw = orjson.dumps([at.isoformat(), str(item_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at_text, id_text = orjson.loads(raw)
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None:
            raise ValueError("naive timestamp")
        # In UTC, as the database driver will send it: an offset can push year 1 or 9999 out
        # of the calendar (OverflowError), which must be this 422, not a 500 in the driver.
        return at.astimezone(UTC), uuid.UUID(id_text)
    except (ValueError, TypeError, OverflowError, binascii.Error, orjson.JSONDecodeError):
        raise invalid_cursor() from None


def invalid_cursor() -> InvalidInput:
    return InvalidInput(
        "the cursor is not one this API gave out", [{"loc": ["query", "cursor"], "msg": "invalid cursor"}]
    )
