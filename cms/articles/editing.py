"""Use cases of an editor's working session: autosaved copies and soft edit locks.

Neither is a change to the article: no version, no revision, no outbox row. Each use case runs
in one transaction that holds the article row (shared for a copy, exclusive for a lock), so a
concurrent save or delete either sees the copy or lock or comes after it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from cms.articles import drafts, locks, service, store
from cms.articles.drafts import DraftCopy, DraftCopyRequest
from cms.articles.locks import AdminArticle, EditLock
from cms.articles.service import Context
from cms.platform.db import Connection
from cms.platform.errors import Forbidden, InvalidInput, NotFound


async def get_with_lock(conn: Connection, article_id: uuid.UUID, ctx: Context) -> AdminArticle:
    """The article and its live edit lock, if any, read in one snapshot."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        article = await service.get(conn, article_id)
        lock = await locks.get(conn, article_id)
    live = lock.public() if lock is not None and lock.live(ctx.now) else None
    return AdminArticle.model_validate({**dict(article), "lock": live})


async def save_copy(
    conn: Connection, article_id: uuid.UUID, copy: DraftCopyRequest, ctx: Context
) -> DraftCopy:
    async with conn.transaction():
        article = await store.share(conn, article_id)
        if article is None:
            raise NotFound(f"no article {article_id}")
        # Work the caller could never save is not kept for them.
        service.may_edit(ctx.actor, article)
        if copy.based_on > article.version:
            raise InvalidInput(
                f"the article has no version {copy.based_on} yet",
                [{"loc": ["body", "based_on"], "msg": f"at most the current version, {article.version}"}],
            )
        await drafts.put(conn, article_id, ctx.actor.name, copy.based_on, copy.fields(), ctx.now)
        found = await drafts.get(conn, article_id, ctx.actor.name, article.version)
    assert found is not None
    return found


async def get_copy(conn: Connection, article_id: uuid.UUID, ctx: Context) -> DraftCopy:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        article = await service.get(conn, article_id)
        found = await drafts.get(conn, article_id, ctx.actor.name, article.version)
    if found is None:
        raise NotFound(f"you keep no working copy of article {article_id}")
    return found


async def discard_copy(conn: Connection, article_id: uuid.UUID, ctx: Context) -> None:
    async with conn.transaction():
        await service.get(conn, article_id)
        if not await drafts.discard(conn, article_id, ctx.actor.name):
            raise NotFound(f"you keep no working copy of article {article_id}")


async def acquire_lock(
    conn: Connection, article_id: uuid.UUID, lease: timedelta, ctx: Context, *, take_over: bool
) -> EditLock:
    """Acquire, renew or take over; the article row is locked so a save sees the outcome whole."""
    async with conn.transaction():
        article = await store.lock(conn, article_id)
        if article is None:
            raise NotFound(f"no article {article_id}")
        service.may_edit(ctx.actor, article, action="lock")
        lock = locks.acquire(
            await locks.get(conn, article_id), ctx.actor, ctx.now, lease, take_over=take_over
        )
        await locks.put(conn, article_id, lock)
    return lock.public()


async def release_lock(conn: Connection, article_id: uuid.UUID, ctx: Context) -> None:
    """Only the holder or an editor; releasing when nobody holds a lock does nothing."""
    async with conn.transaction():
        if await store.lock(conn, article_id) is None:
            raise NotFound(f"no article {article_id}")
        current = await locks.get(conn, article_id)
        if current is None:
            return
        if not locks.may_release(current, ctx.actor, ctx.now):
            raise Forbidden(f"{current.holder} holds this lock: only they or an editor may release it")
        await locks.release(conn, article_id)
