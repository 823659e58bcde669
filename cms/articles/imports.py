"""Use cases for content moved in from another system: an article created or brought up to date
with the status and dates it had there, each in one transaction with its revision and its event,
so search, social, ads and caches follow an import as they follow any write.

Unlike an editor's publish, an import keeps the original publication date (`published_at`,
`first_published_at`, `created_at`): a story from 2019 stays a story from 2019 in every list and
sitemap. `updated_at` is the time of the import, since feeds and caches answer "changed since?"
from it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cms.articles import service, store
from cms.articles.model import ArticleCreate
from cms.articles.text import slug_from_title
from cms.events.contract import Article, EventKind, Status, is_live
from cms.platform.db import Connection
from cms.platform.errors import SlugTaken


@dataclass(frozen=True)
class Incoming:
    """An article as the other system had it: its fields, status and original dates."""

    fields: ArticleCreate
    status: Status
    published_at: datetime | None
    publish_at: datetime | None
    created_at: datetime
    # False when the other system had no date and the import's own time stands in: a later run
    # then keeps the dates the article has rather than moving them to its own time.
    dated: bool = True


class ChangedHere(Exception):
    """The article changed in this CMS since the import wrote it: an import does not undo that."""


# Room for "-" and a number within the 120 of a slug.
_STEM_LENGTH = 100
_NUMBERED_TRIES = 3


async def create(conn: Connection, incoming: Incoming, ctx: service.Context, *, action: str) -> Article:
    """A new article with its original status and dates. A slug taken in its language gets the
    next free number (the old URL redirects to the article whatever its slug is)."""
    article_id = uuid.uuid4()
    fields = incoming.fields
    wanted = fields.slug or slug_from_title(fields.title) or f"article-{article_id.hex[:8]}"
    async with _transaction(conn):
        article = _new(incoming, wanted, article_id, ctx)
        inserted = await store.insert(conn, article)
        # The numbered ones are worked out only when the slug wanted is taken: most are free.
        if not inserted:
            async for slug in _numbered(conn, wanted, fields.language, article_id):
                article = _new(incoming, slug, article_id, ctx)
                if inserted := await store.insert(conn, article):
                    break
        if not inserted:
            raise SlugTaken(wanted, fields.language)
        kind: EventKind = "published" if is_live(article) else "created"
        await service.record(conn, article, action, kind, ctx)
        return article


async def update(
    conn: Connection,
    article_id: uuid.UUID,
    incoming: Incoming,
    expected_version: int,
    ctx: service.Context,
    *,
    action: str,
) -> Article | None:
    """Bring an imported article in line with its source again; None when it was deleted here.
    Raises ChangedHere when someone changed it in this CMS after the import wrote it."""
    async with _transaction(conn):
        article = await _locked_as_imported(conn, article_id, expected_version)
        if article is None:
            return None
        state = _state(incoming)
        if not incoming.dated and article.status == incoming.status:
            state = {"status": incoming.status}
        wanted = state | {name: getattr(incoming.fields, name) for name in _CONTENT if name != "slug"}
        if incoming.fields.slug is not None and incoming.fields.slug != article.slug:
            wanted["slug"] = incoming.fields.slug
        changes = {name: value for name, value in wanted.items() if getattr(article, name) != value}
        if not changes:
            return article
        new = _next(article, changes, ctx.now)
        try:
            async with conn.transaction():
                await store.update(conn, new)
        except SlugTaken:
            # The source renamed it to a slug another article has here: keep the one it had.
            new = _next(article, {k: v for k, v in changes.items() if k != "slug"}, ctx.now)
            await store.update(conn, new)
        await service.record(conn, new, action, _kind(article, new), ctx)
        return new


async def relate(
    conn: Connection,
    article_id: uuid.UUID,
    related: list[uuid.UUID],
    expected_version: int,
    ctx: service.Context,
    *,
    action: str,
) -> Article | None:
    """Set an imported article's "see also" once every article it points at is in; None when it
    was deleted here, the article itself when nothing changes."""
    async with _transaction(conn):
        article = await _locked_as_imported(conn, article_id, expected_version)
        if article is None:
            return None
        alive = await store.existing(conn, related)
        wanted = [r for r in dict.fromkeys(related) if r in alive and r != article_id][:50]
        if wanted == article.related:
            return article
        new = _next(article, {"related": wanted}, ctx.now)
        await store.update(conn, new)
        await service.record(conn, new, action, "updated", ctx)
        return new


_CONTENT = ("title", "lead", "body", "section", "tags", "authors", "language", "slug", "post_to_social")


def _state(incoming: Incoming) -> dict[str, Any]:
    live = incoming.status == "published"
    return {
        "status": incoming.status,
        "published_at": incoming.published_at if live else None,
        "first_published_at": incoming.published_at if live else None,
        "publish_at": incoming.publish_at if incoming.status == "scheduled" else None,
    }


def _new(incoming: Incoming, slug: str, article_id: uuid.UUID, ctx: service.Context) -> Article:
    fields = incoming.fields
    return Article.model_validate(
        {
            **{name: getattr(fields, name) for name in _CONTENT},
            **_state(incoming),
            "slug": slug,
            "related": [],
            "id": article_id,
            "owner": ctx.actor.name,
            "version": 1,
            "unpublish_at": None,
            "created_at": incoming.created_at,
            "updated_at": ctx.now,
        }
    )


def _next(article: Article, changes: dict[str, Any], now: datetime) -> Article:
    return article.model_copy(update={**changes, "version": article.version + 1, "updated_at": now})


def _kind(old: Article, new: Article) -> EventKind:
    if is_live(new) and not is_live(old):
        return "published"
    if is_live(old) and not is_live(new):
        return "unpublished"
    return "updated"


async def _numbered(
    conn: Connection, wanted: str, language: str, article_id: uuid.UUID
) -> AsyncIterator[str]:
    """After the slug wanted: numbered ones after the highest taken, then one made unique by the id."""
    stem = wanted[:_STEM_LENGTH].rstrip("-")
    highest = await store.highest_number(conn, language, stem)
    for n in range(1, _NUMBERED_TRIES + 1):
        yield f"{stem}-{highest + n}"
    yield f"{stem[:80].rstrip('-')}-{article_id.hex}"


async def _locked_as_imported(
    conn: Connection, article_id: uuid.UUID, expected_version: int
) -> Article | None:
    """The article, locked, if the import's version is still its own; None when it was deleted
    here; ChangedHere when someone changed it in this CMS since."""
    article = await store.lock(conn, article_id)
    if article is not None and article.version != expected_version:
        raise ChangedHere(f"changed in the CMS since the import (version {article.version})")
    return article


def _transaction(conn: Connection) -> AbstractAsyncContextManager[object]:
    """A transaction of its own, or the caller's: an importer writes a post, its mapping and its
    redirects in one, and a savepoint per step would only add round trips."""
    return contextlib.nullcontext() if conn.is_in_transaction() else conn.transaction()
