"""Applying an event: work out which keys the change made stale, and queue them, in the
runtime's transaction. Nothing is purged here: the purge worker (worker.py) sends the queued
keys once they committed, so a cache that is down delays a purge but never loses one.

This consumer keeps its own versions (the spec turns the runtime's claim off): it must see
redeliveries, because "purge again" is the safe answer to "did that purge happen?".
- a newer version: purge what moved between the version seen last and this one;
- the version seen last, again (a redelivery): purge the same keys as the first time;
- an older version (late, out of order): purge the article's own key; the newer version's
  purge already covered its lists.
"""

from __future__ import annotations

import structlog

from cms.events.contract import ArticleEvent
from cms.platform import cache_keys
from cms.platform.db import Connection
from consumers.purge import store
from consumers.purge.keys import Shown, stale_keys

log = structlog.get_logger(__name__)

# A legal takedown must be gone everywhere at once: no cache may keep it even as a stale copy.
HARD = frozenset({"cms.article.killed"})


async def apply(conn: Connection, event: ArticleEvent) -> None:
    article_id = event.data.id
    now = Shown.of(event.data)
    last = await store.seen(conn, article_id)
    if last is None or event.articleversion > last.version:
        before = _before(last, event, now)
        keys = stale_keys(article_id, before, now)
        await store.remember(conn, article_id, event.articleversion, now, before)
    elif event.articleversion == last.version:
        keys = stale_keys(article_id, last.before, last.shown)
    else:
        keys = [cache_keys.article(article_id)]
    await store.queue(conn, keys, hard=event.type in HARD, changed_at=event.time)
    log.debug("purge.queued", keys=len(keys), version=event.articleversion)


def _before(last: store.Seen | None, event: ArticleEvent, now: Shown) -> Shown | None:
    """What readers saw before this version: the last version applied; for a new draft,
    nothing (no cache can hold it); None when this consumer never saw the article (unknown)."""
    if last is not None:
        return last.shown
    if event.type == "cms.article.created":
        return Shown(False, now.section, now.tags, now.language)
    return None
