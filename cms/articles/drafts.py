"""SQL for `article_draft_copies`: each person's autosaved working copy of an article.

A copy is not a revision: saving one bumps no version and emits no event. It holds the fields
as a PATCH would send them (validated and sanitised the same way) and the version they were
edited from.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cms.articles.model import ArticleUpdate
from cms.platform.db import Connection


class DraftCopyRequest(ArticleUpdate):
    """The fields of a PATCH, plus the version they were edited from."""

    based_on: int = Field(ge=1, le=2**31 - 1, description="the version the copy was edited from")

    def fields(self) -> dict[str, Any]:
        """The PATCH fields the caller sent, as JSON (without `based_on`)."""
        return self.model_dump(mode="json", include=self.model_fields_set - {"based_on"})


class DraftCopy(BaseModel):
    article_id: uuid.UUID
    based_on: int = Field(description="the version the copy was edited from")
    current_version: int = Field(description="the article's version now")
    stale: bool = Field(description="true when the article moved on since `based_on`: offer a merge")
    saved_at: datetime
    fields: ArticleUpdate = Field(description="only the fields the copy holds")


_PUT = """
INSERT INTO article_draft_copies (article_id, actor, based_on, fields, saved_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (article_id, actor)
DO UPDATE SET based_on = excluded.based_on, fields = excluded.fields, saved_at = excluded.saved_at"""
_GET = "SELECT based_on, fields, saved_at FROM article_draft_copies WHERE article_id = $1 AND actor = $2"
_DISCARD = "DELETE FROM article_draft_copies WHERE article_id = $1 AND actor = $2"
_DISCARD_ALL = "DELETE FROM article_draft_copies WHERE article_id = $1"


async def put(
    conn: Connection, article_id: uuid.UUID, actor: str, based_on: int, fields: dict[str, Any], now: datetime
) -> None:
    await conn.execute(_PUT, article_id, actor, based_on, fields, now)


async def get(conn: Connection, article_id: uuid.UUID, actor: str, current_version: int) -> DraftCopy | None:
    row = await conn.fetchrow(_GET, article_id, actor)
    if row is None:
        return None
    return DraftCopy(
        article_id=article_id,
        based_on=row["based_on"],
        current_version=current_version,
        stale=row["based_on"] != current_version,
        saved_at=row["saved_at"],
        fields=ArticleUpdate.model_validate(row["fields"]),
    )


async def discard(conn: Connection, article_id: uuid.UUID, actor: str) -> bool:
    """True when there was a copy to discard."""
    return await conn.execute(_DISCARD, article_id, actor) != "DELETE 0"


async def discard_all(conn: Connection, article_id: uuid.UUID) -> None:
    await conn.execute(_DISCARD_ALL, article_id)
