"""The article's life, as pure functions: each takes the current article and returns the next
version and the kind of event it makes. No I/O; the service persists what these decide."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from cms.events.contract import Article, Correction, EventKind
from cms.platform.errors import Conflict, InvalidTransition

Change = tuple[Article, EventKind]

_PUBLISHABLE = {"draft", "in_review", "unpublished"}
RESTORED_FIELDS = ("slug", "language", "title", "lead", "body", "section", "tags", "authors", "related")


def _next(article: Article, now: datetime, **changes: Any) -> Article:
    return article.model_copy(update={**changes, "version": article.version + 1, "updated_at": now})


def new_draft(fields: dict[str, Any], *, article_id: uuid.UUID, owner: str, now: datetime) -> Article:
    return Article.model_validate(
        {
            **fields,
            "id": article_id,
            "owner": owner,
            "status": "draft",
            "version": 1,
            "publish_at": None,
            "unpublish_at": None,
            "published_at": None,
            "first_published_at": None,
            "created_at": now,
            "updated_at": now,
        }
    )


def edit(article: Article, changes: dict[str, Any], now: datetime) -> Change:
    return _next(article, now, **changes), "updated"


def submit(article: Article, now: datetime) -> Change:
    if article.status != "draft":
        raise InvalidTransition("submit", article.status)
    return _next(article, now, status="in_review"), "updated"


def publish(article: Article, at: datetime | None, now: datetime) -> Change:
    # Not `killed`: a takedown is undone deliberately, by an admin (`restore_killed`), never by
    # a publish, whoever asks.
    if article.status not in _PUBLISHABLE:
        raise InvalidTransition("publish", article.status)
    if at is not None and at > now:
        return _next(
            article, now, status="scheduled", publish_at=at, unpublish_at=_expiry_after(article, at)
        ), "updated"
    return _go_live(article, now), "published"


def publish_due(article: Article, now: datetime) -> Change:
    """The scheduler's half of an embargo: a scheduled article whose time came."""
    if article.status != "scheduled" or article.publish_at is None or article.publish_at > now:
        raise InvalidTransition("publish on schedule", article.status)
    return _go_live(article, now), "published"


def _go_live(article: Article, now: datetime) -> Article:
    return _next(
        article,
        now,
        status="published",
        publish_at=None,
        unpublish_at=_expiry_after(article, now),
        published_at=now,
        first_published_at=article.first_published_at or now,
    )


def _expiry_after(article: Article, live_at: datetime) -> datetime | None:
    """The article's expiry, if it still lies after the moment it goes live. An older one was
    meant for an earlier publication: kept, it would take the new one down at once."""
    if article.unpublish_at is not None and article.unpublish_at > live_at:
        return article.unpublish_at
    return None


def unpublish(article: Article, at: datetime | None, now: datetime) -> Change:
    if article.status == "scheduled" and at is not None and at > now:
        # Embargo and expiry together: it goes live at publish_at and comes down at `at`.
        if article.publish_at is not None and at <= article.publish_at:
            raise Conflict(f"the expiry must come after the scheduled publication at {article.publish_at}")
        return _next(article, now, unpublish_at=at), "updated"
    if article.status == "scheduled":
        # It was never visible, so nothing stops being visible: an update, not an unpublish.
        # The cancelled schedule's expiry goes with it.
        return _next(article, now, status="unpublished", publish_at=None, unpublish_at=None), "updated"
    if article.status != "published":
        raise InvalidTransition("unpublish", article.status)
    if at is not None and at > now:
        return _next(article, now, unpublish_at=at), "updated"
    return _take_down(article, now), "unpublished"


def unpublish_due(article: Article, now: datetime) -> Change:
    if article.status != "published" or article.unpublish_at is None or article.unpublish_at > now:
        raise InvalidTransition("unpublish on schedule", article.status)
    return _take_down(article, now), "unpublished"


def _take_down(article: Article, now: datetime) -> Article:
    return _next(article, now, status="unpublished", unpublish_at=None)


def delete(article: Article, now: datetime) -> Change:
    return _next(article, now, deleted_at=now), "deleted"


def restore(article: Article, snapshot: Article, now: datetime) -> Change:
    """The content of an old version as a new version; status and schedule stay as they are."""
    return _next(article, now, **{name: getattr(snapshot, name) for name in RESTORED_FIELDS}), "updated"


def correct(article: Article, correction_id: uuid.UUID, note: str, by: str, now: datetime) -> Change:
    """A dated note added to a live article; the text itself is changed by an edit, if at all."""
    if article.status != "published":
        raise InvalidTransition("correct", article.status)
    correction = Correction(id=correction_id, note=note, at=now, by=by)
    return _next(article, now, corrections=[*article.corrections, correction]), "corrected"


def kill(article: Article, now: datetime) -> Change:
    """A legal takedown, from any status: never live again until an admin restores it. A
    schedule or an expiry goes with it, so the scheduler cannot bring it back."""
    if article.status == "killed":
        raise InvalidTransition("kill", article.status)
    return _next(article, now, status="killed", publish_at=None, unpublish_at=None, killed_at=now), "killed"


def restore_killed(article: Article, now: datetime) -> Change:
    """An admin lifts a takedown: the article is unpublished (still not live), so publishing it
    again is a separate, ordinary decision."""
    if article.status != "killed":
        raise InvalidTransition("restore", article.status)
    return _next(article, now, status="unpublished", killed_at=None), "updated"
