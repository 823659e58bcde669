"""Preview links: a secret link that shows an article as a site would, before it is live.

The token is the credential (whoever has the link sees the preview), so it is drawn from
`secrets`, shown once and stored only as its hash, like an API token. A preview reads; it never
writes the article, a revision or an event, so nothing downstream ever hears of it.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from cms.articles import preview_store, queries, revisions, service, store
from cms.articles.preview_store import PreviewInfo
from cms.events.contract import Article
from cms.platform.db import Connection
from cms.platform.errors import Conflict, Forbidden, InvalidInput
from cms.platform.identity import Actor
from cms.platform.tokens import Role, hash_token

_PREFIX = "prv_"
# token_urlsafe(32): 43 characters of the URL-safe alphabet.
_WELL_FORMED = re.compile(r"prv_[A-Za-z0-9_-]{43}")
_MAX_SECONDS = 366 * 24 * 3600


class PreviewCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires_in: Annotated[
        int | None,
        Field(strict=True, ge=60, le=_MAX_SECONDS, description="seconds; default and maximum are settings"),
    ] = None
    version: Annotated[
        int | None,
        Field(strict=True, ge=1, le=2**31 - 1, description="pin to this version; omitted: follow the latest"),
    ] = None


class CreatedPreview(PreviewInfo):
    token: str = Field(description="shown this once; the link is /v1/preview/{token}")
    url: str


@dataclass(frozen=True)
class Limits:
    default_ttl: timedelta
    max_ttl: timedelta


@dataclass(frozen=True)
class Previewed:
    """What a preview link shows: the article at its version, "see also" as delivery expands it."""

    article: Article
    related: list[dict[str, Any]]


def new_token() -> str:
    return _PREFIX + secrets.token_urlsafe(32)


async def create(
    conn: Connection, article_id: uuid.UUID, fields: PreviewCreate, ctx: service.Context, limits: Limits
) -> CreatedPreview:
    article = await service.get(conn, article_id)
    _may_preview(ctx.actor, article)
    if article.status == "killed":
        raise Conflict("a killed article has no previews: it was taken down for legal reasons")
    life = limits.default_ttl if fields.expires_in is None else timedelta(seconds=fields.expires_in)
    if life > limits.max_ttl:
        seconds = int(limits.max_ttl.total_seconds())
        raise InvalidInput(
            f"a preview link lives at most {seconds} seconds",
            [{"loc": ["body", "expires_in"], "msg": f"at most {seconds}"}],
        )
    if fields.version is not None and fields.version > article.version:
        raise InvalidInput(
            f"the article has no version {fields.version} yet",
            [{"loc": ["body", "version"], "msg": f"at most {article.version}, the current version"}],
        )
    token = new_token()
    info = await preview_store.insert(
        conn,
        article_id=article_id,
        token_hash=hash_token(token),
        version=fields.version,
        created_by=ctx.actor.name,
        created_at=ctx.now,
        expires_at=ctx.now + life,
    )
    return CreatedPreview(**info.model_dump(), token=token, url=f"/v1/preview/{token}")


async def page(
    conn: Connection,
    article_id: uuid.UUID,
    actor: Actor,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[PreviewInfo]:
    _may_preview(actor, await service.get(conn, article_id))
    return await preview_store.page(conn, article_id, after=after, limit=limit)


async def revoke(
    conn: Connection, article_id: uuid.UUID, preview_id: uuid.UUID, actor: Actor
) -> PreviewInfo | None:
    """The revoked link; None when the article has no such link."""
    _may_preview(actor, await service.get(conn, article_id))
    return await preview_store.revoke(conn, preview_id, article_id)


async def show(conn: Connection, token: str) -> Previewed | None:
    """What the link shows now; None for a link that is malformed, unknown, revoked or expired,
    or whose article was deleted: the caller cannot tell these apart."""
    if not _WELL_FORMED.fullmatch(token):
        return None
    # One snapshot: the link's state and the version it shows are read together.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        found = await preview_store.active(conn, hash_token(token))
        if found is None:
            return None
        article_id, version = found
        if version is None:
            article = await store.get(conn, article_id)
        else:
            revision = await revisions.get(conn, article_id, version)
            article = None if revision is None else revision.article
        if article is None:
            return None
        return Previewed(article, await queries.related_links(conn, article.related))


def _may_preview(actor: Actor, article: Article) -> None:
    """Editors preview anything; an author only their own articles."""
    if actor.at_least(Role.editor) or article.owner == actor.name:
        return
    raise Forbidden("an author may make and see preview links of their own articles only")
