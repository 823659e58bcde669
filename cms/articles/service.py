"""Use cases: one transaction each, and every change writes its revision and its outbox row.

If the transaction commits, the event exists and will be published; if it rolls back,
neither the change nor the event exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from cms.articles import drafts, locks, revisions, store, takedowns, workflow
from cms.articles.model import ArticleCreate, ArticleUpdate
from cms.articles.text import slug_from_title
from cms.events import outbox
from cms.events.contract import Article, EventKind
from cms.platform.db import Connection
from cms.platform.errors import Forbidden, InvalidInput, NotFound, PreconditionFailed, SlugTaken
from cms.platform.identity import Actor
from cms.platform.tokens import Role

Decide = Callable[[Article], workflow.Change]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Context:
    """Who asks, when, and which request to credit in the event (its correlation id)."""

    actor: Actor
    now: datetime
    correlation_id: str | None


async def get(conn: Connection, article_id: uuid.UUID) -> Article:
    article = await store.get(conn, article_id)
    if article is None:
        raise NotFound(f"no article {article_id}")
    return article


async def create(conn: Connection, fields: ArticleCreate, ctx: Context) -> Article:
    given = fields.model_dump(exclude={"body"}) | {"body": fields.body}
    article_id = uuid.uuid4()
    async with conn.transaction():
        await _check_related(conn, fields.related, article_id)
        article = await _insert_with_free_slug(conn, given, article_id, ctx, generated=fields.slug is None)
        await record(conn, article, "create", "created", ctx)
    return article


async def _insert_with_free_slug(
    conn: Connection, given: dict[str, object], article_id: uuid.UUID, ctx: Context, *, generated: bool
) -> Article:
    """A slug the editor chose is theirs or a 409; one made from the title always succeeds,
    numbered after the highest number that title already has."""
    language = str(given["language"])
    if not generated:
        candidates: list[str | None] = [str(given["slug"])]
    else:
        whole = slug_from_title(str(given["title"])) or f"article-{article_id.hex[:8]}"
        stem = whole[:_STEM_LENGTH].rstrip("-")
        candidates = [whole, *[None] * _NUMBERED_TRIES, f"{stem}-{article_id.hex}"]
    for candidate in candidates:
        # None: the next number after those taken so far (again, if another writer took it).
        slug = candidate or f"{stem}-{await store.highest_number(conn, language, stem) + 1}"
        article = workflow.new_draft(
            given | {"slug": slug}, article_id=article_id, owner=ctx.actor.name, now=ctx.now
        )
        if await store.insert(conn, article):
            return article
    raise SlugTaken(str(candidates[0]), language)


# Room for "-" and a number, or for the article's id (unique), within the 120 of a slug.
_STEM_LENGTH = 80
_NUMBERED_TRIES = 3


async def update(
    conn: Connection, article_id: uuid.UUID, changes: ArticleUpdate, if_match: int | None, ctx: Context
) -> Article:
    """Save: the caller's working copy goes in the same transaction, and someone else's live
    edit lock refuses the save (409) before If-Match is compared, so the one whose lock was taken
    over learns that rather than only "stale"."""
    async with conn.transaction():
        article = await store.lock(conn, article_id)
        if article is None:
            raise NotFound(f"no article {article_id}")
        locks.check_save(await locks.get(conn, article_id), ctx.actor, ctx.now)
        _check_version(article, if_match)
        may_edit(ctx.actor, article)
        await drafts.discard(conn, article_id, ctx.actor.name)
        wanted = {name: value for name, value in changes.changes().items() if getattr(article, name) != value}
        if not wanted:
            return article  # nothing changes: no new version, revision or event
        if "related" in wanted:
            await _check_related(conn, changes.related or [], article_id)
        return await _apply(conn, article, "update", workflow.edit(article, wanted, ctx.now), ctx)


async def submit(conn: Connection, article_id: uuid.UUID, if_match: int | None, ctx: Context) -> Article:
    def decide(article: Article) -> workflow.Change:
        may_edit(ctx.actor, article, action="submit")
        return workflow.submit(article, ctx.now)

    async with conn.transaction():
        return await _change(conn, article_id, if_match, "submit", decide, ctx)


async def publish(
    conn: Connection, article_id: uuid.UUID, at: datetime | None, if_match: int | None, ctx: Context
) -> Article:
    async with conn.transaction():
        return await _change(
            conn, article_id, if_match, "publish", lambda a: workflow.publish(a, at, ctx.now), ctx
        )


async def unpublish(
    conn: Connection, article_id: uuid.UUID, at: datetime | None, if_match: int | None, ctx: Context
) -> Article:
    async with conn.transaction():
        return await _change(
            conn, article_id, if_match, "unpublish", lambda a: workflow.unpublish(a, at, ctx.now), ctx
        )


async def delete(conn: Connection, article_id: uuid.UUID, if_match: int | None, ctx: Context) -> Article:
    async with conn.transaction():
        deleted = await _change(
            conn, article_id, if_match, "delete", lambda a: workflow.delete(a, ctx.now), ctx
        )
        # Working copies and the edit lock go with the article: nobody can save them any more.
        await drafts.discard_all(conn, article_id)
        await locks.release(conn, article_id)
        return deleted


async def restore(
    conn: Connection, article_id: uuid.UUID, version: int, if_match: int | None, ctx: Context
) -> Article:
    async with conn.transaction():
        old = await revisions.get(conn, article_id, version)
        if old is None:
            raise NotFound(f"article {article_id} has no version {version}")
        # A "see also" deleted since that version cannot come back; the rest of it can.
        alive = await store.existing(conn, old.article.related)
        snapshot = old.article.model_copy(update={"related": [r for r in old.article.related if r in alive]})
        return await _change(
            conn,
            article_id,
            if_match,
            f"restore:{version}",
            lambda a: workflow.restore(a, snapshot, ctx.now),
            ctx,
        )


async def correct(
    conn: Connection, article_id: uuid.UUID, note: str, if_match: int | None, ctx: Context
) -> Article:
    correction_id = uuid.uuid4()
    async with conn.transaction():
        return await _change(
            conn,
            article_id,
            if_match,
            "correct",
            lambda a: workflow.correct(a, correction_id, note, ctx.actor.name, ctx.now),
            ctx,
        )


async def kill(
    conn: Connection, article_id: uuid.UUID, reason: str, if_match: int | None, ctx: Context
) -> Article:
    """The legal takedown: the article, its revision, its `killed` event and the reason on
    record, all in one transaction."""
    async with conn.transaction():
        killed = await _change(conn, article_id, if_match, "kill", lambda a: workflow.kill(a, ctx.now), ctx)
        await takedowns.add(
            conn, article_id, killed.version, "kill", reason=reason, actor=ctx.actor.name, at=ctx.now
        )
    # The audit line: who took what down and when; the reason stays in the table.
    log.warning("article.killed", article_id=str(article_id), version=killed.version, actor=ctx.actor.name)
    return killed


async def restore_killed(
    conn: Connection, article_id: uuid.UUID, reason: str, if_match: int | None, ctx: Context
) -> Article:
    async with conn.transaction():
        restored = await _change(
            conn, article_id, if_match, "restore-killed", lambda a: workflow.restore_killed(a, ctx.now), ctx
        )
        await takedowns.add(
            conn, article_id, restored.version, "restore", reason=reason, actor=ctx.actor.name, at=ctx.now
        )
    log.warning(
        "article.kill_lifted", article_id=str(article_id), version=restored.version, actor=ctx.actor.name
    )
    return restored


async def takedown_record(conn: Connection, article_id: uuid.UUID) -> list[takedowns.Takedown]:
    await get(conn, article_id)
    return await takedowns.of_article(conn, article_id)


async def publish_due(conn: Connection, article_id: uuid.UUID, ctx: Context) -> Article | None:
    """Publish one scheduled article whose time came; None when someone else already did."""
    async with conn.transaction():
        article = await store.lock(conn, article_id)
        if article is None or article.status != "scheduled" or article.publish_at is None:
            return None
        if article.publish_at > ctx.now:
            return None
        return await _apply(conn, article, "publish:scheduled", workflow.publish_due(article, ctx.now), ctx)


async def unpublish_due(conn: Connection, article_id: uuid.UUID, ctx: Context) -> Article | None:
    async with conn.transaction():
        article = await store.lock(conn, article_id)
        if article is None or article.status != "published" or article.unpublish_at is None:
            return None
        if article.unpublish_at > ctx.now:
            return None
        return await _apply(
            conn, article, "unpublish:scheduled", workflow.unpublish_due(article, ctx.now), ctx
        )


async def _change(
    conn: Connection, article_id: uuid.UUID, if_match: int | None, action: str, decide: Decide, ctx: Context
) -> Article:
    """Lock, check the version the client edited, decide, persist. Call inside a transaction."""
    article = await _lock_version(conn, article_id, if_match)
    return await _apply(conn, article, action, decide(article), ctx)


async def _lock_version(conn: Connection, article_id: uuid.UUID, if_match: int | None) -> Article:
    article = await store.lock(conn, article_id)
    if article is None:
        raise NotFound(f"no article {article_id}")
    _check_version(article, if_match)
    return article


def _check_version(article: Article, if_match: int | None) -> None:
    if if_match is not None and if_match != article.version:
        raise PreconditionFailed(article.version)


async def _apply(
    conn: Connection, old: Article, action: str, change: workflow.Change, ctx: Context
) -> Article:
    new, kind = change
    await store.update(conn, new)
    await record(conn, new, action, kind, ctx)
    return new


async def record(conn: Connection, article: Article, action: str, kind: EventKind, ctx: Context) -> None:
    """The revision and the event carry the same article: dump it to JSON once for both."""
    data = article.model_dump(mode="json")
    await revisions.add(conn, article, action=action, actor=ctx.actor.name, snapshot=data)
    await outbox.add(
        conn, kind, article, now=ctx.now, correlation_id=ctx.correlation_id, data=data, actor=ctx.actor.name
    )


def may_edit(actor: Actor, article: Article, action: str = "edit") -> None:
    """Editors edit anything; an author only their own drafts."""
    if actor.at_least(Role.editor):
        return
    if article.owner != actor.name or article.status != "draft":
        raise Forbidden(f"an author may {action} only their own drafts")


async def _check_related(conn: Connection, related: list[uuid.UUID], article_id: uuid.UUID) -> None:
    if not related:
        return
    errors = []
    if article_id in related:
        errors.append({"loc": ["body", "related"], "msg": "an article cannot be related to itself"})
    elif len(await store.existing(conn, related)) != len(related):
        errors.append({"loc": ["body", "related"], "msg": "every related id must name an existing article"})
    if errors:
        raise InvalidInput("related articles must exist", errors)
