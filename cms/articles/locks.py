"""Soft edit locks: the rules as pure functions, and the SQL for `article_locks`.

A lock says "I am editing this": it has a short lease the holder renews, and a lease that ran
out counts as no lock. It never replaces If-Match (the ETag stays the hard guarantee): it only
keeps two people from working on one article unawares. Anyone who may edit the article may
lock it when nobody else holds it; editors may take a live lock over, authors only their own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cms.events.contract import Article
from cms.platform.db import Connection
from cms.platform.errors import Conflict, Forbidden
from cms.platform.identity import Actor
from cms.platform.tokens import Role


class EditLock(BaseModel):
    """Who is editing the article now, since when, and until when their lease runs."""

    holder: str
    since: datetime
    expires_at: datetime


class AdminArticle(Article):
    """The article as the admin API shows it: the contract's article plus who is editing it."""

    lock: EditLock | None = Field(default=None, description="a live edit lock; null when nobody holds one")


class LockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    take_over: bool = Field(
        default=False, description="take a live lock from its holder (editors; an author only their own)"
    )


@dataclass(frozen=True)
class Lock:
    holder: str
    since: datetime
    expires_at: datetime
    taken_from: str | None = None
    taken_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.expires_at > now

    def public(self) -> EditLock:
        return EditLock(holder=self.holder, since=self.since, expires_at=self.expires_at)


class Locked(Conflict):
    """Someone else holds a live lock."""

    type_slug = "locked"

    def __init__(self, lock: Lock, detail: str) -> None:
        super().__init__(detail)
        self.lock = lock

    @property
    def extra(self) -> dict[str, Any]:
        return {"lock": self.lock.public().model_dump(mode="json")}


class LockTaken(Locked):
    """The caller held the lock until someone took it over."""

    type_slug = "lock-taken"

    @property
    def extra(self) -> dict[str, Any]:
        assert self.lock.taken_at is not None
        return {
            **super().extra,
            "taken_by": self.lock.holder,
            "taken_at": self.lock.taken_at.isoformat().replace("+00:00", "Z"),
        }


def acquire(current: Lock | None, actor: Actor, now: datetime, lease: timedelta, *, take_over: bool) -> Lock:
    """The lock after `actor` asks for it: new, renewed, or taken over; or Locked / Forbidden."""
    if current is None or not current.live(now):
        return Lock(holder=actor.name, since=now, expires_at=now + lease)
    if current.holder == actor.name:
        return Lock(current.holder, current.since, now + lease, current.taken_from, current.taken_at)
    if not take_over:
        raise Locked(current, f"{current.holder} is editing this article since {_when(current.since)}")
    if not actor.at_least(Role.editor):
        raise Forbidden("an author may take over only their own lock; an editor may take over any")
    return Lock(holder=actor.name, since=now, expires_at=now + lease, taken_from=current.holder, taken_at=now)


def may_release(current: Lock, actor: Actor, now: datetime) -> bool:
    """The holder releases their lock, an editor any; a lock that ran out is nobody's."""
    return not current.live(now) or current.holder == actor.name or actor.at_least(Role.editor)


def check_save(current: Lock | None, actor: Actor, now: datetime) -> None:
    """A save while someone else holds a live lock is a 409: `lock-taken` for the person it was
    taken from (so their next save tells them), `locked` for anyone else. Nobody holding one:
    the save goes on (If-Match decides)."""
    if current is None or not current.live(now) or current.holder == actor.name:
        return
    if current.taken_from == actor.name and current.taken_at is not None:
        raise LockTaken(
            current,
            f"{current.holder} took over your lock at {_when(current.taken_at)}; "
            "take it back (POST .../lock with take_over) before saving, or save your work as a copy",
        )
    raise Locked(current, f"{current.holder} is editing this article since {_when(current.since)}")


def _when(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


_COLUMNS = "holder, since, expires_at, taken_from, taken_at"
_GET = f"SELECT {_COLUMNS} FROM article_locks WHERE article_id = $1"
_PUT = f"""
INSERT INTO article_locks (article_id, {_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (article_id) DO UPDATE SET holder = excluded.holder, since = excluded.since,
    expires_at = excluded.expires_at, taken_from = excluded.taken_from, taken_at = excluded.taken_at"""
_RELEASE = "DELETE FROM article_locks WHERE article_id = $1"
_LIVE_FOR = """
SELECT article_id, holder, since, expires_at FROM article_locks
WHERE article_id = ANY($1) AND expires_at > $2"""


async def get(conn: Connection, article_id: uuid.UUID) -> Lock | None:
    row = await conn.fetchrow(_GET, article_id)
    return None if row is None else Lock(**dict(row))


async def put(conn: Connection, article_id: uuid.UUID, lock: Lock) -> None:
    await conn.execute(
        _PUT, article_id, lock.holder, lock.since, lock.expires_at, lock.taken_from, lock.taken_at
    )


async def live_for(
    conn: Connection, article_ids: list[uuid.UUID], now: datetime
) -> dict[uuid.UUID, EditLock]:
    """The live locks among `article_ids` (a list page's worth): who is editing which."""
    rows = await conn.fetch(_LIVE_FOR, article_ids, now)
    return {
        row["article_id"]: EditLock(holder=row["holder"], since=row["since"], expires_at=row["expires_at"])
        for row in rows
    }


async def release(conn: Connection, article_id: uuid.UUID) -> None:
    await conn.execute(_RELEASE, article_id)
