"""Re-sending events to one queue, so a single consumer can rebuild without disturbing others.

`replay` re-publishes stored events (the log) in their order; `resync` sends the current
state of every article as one event each, for when the log was already pruned. Both publish
through the default exchange straight to the queue, with confirms: a queue that does not
exist is an error, not a silent drop.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from cms.articles import store
from cms.events import outbox
from cms.events.broker import publish_to_queue
from cms.events.contract import RESYNC_LAST, RESYNC_RUN, Article, EventKind, envelope
from cms.platform import amqp, db
from cms.settings import Settings

Progress = Callable[[int], None]
BATCH = 500
RESYNC_SEQUENCE = "0"  # resync events are not in the log, so they have no place in its sequence


async def count_replay(
    settings: Settings, since: datetime | None, article_id: uuid.UUID | None
) -> tuple[int, int]:
    """How many events a replay sends, and how many parked ones it leaves out (they would be
    refused again; `cms events unpark` gives them back to the relay once fixed)."""
    async with db.connection(settings, application_name="cms-replay") as conn:
        return await outbox.count_stored(conn, since=since, article_id=article_id)


async def replay(
    settings: Settings,
    queue: str,
    *,
    since: datetime | None,
    article_id: uuid.UUID | None,
    progress: Progress,
) -> int:
    sent = 0
    async with (
        db.connection(settings, application_name="cms-replay") as conn,
        amqp.confirming_channel(settings.amqp_url) as channel,
    ):
        after = 0
        while rows := await outbox.stored(conn, after=after, since=since, article_id=article_id, limit=BATCH):
            await publish_to_queue(channel, queue, rows)
            after = rows[-1].sequence
            sent += len(rows)
            progress(len(rows))
    return sent


async def count_resync(settings: Settings) -> int:
    async with db.connection(settings, application_name="cms-resync") as conn:
        return await store.count_every(conn)


async def resync(settings: Settings, queue: str, *, progress: Progress) -> int:
    """Every article's current state to `queue`; each event marked with this run's id, the last
    one with how many the run sent (RESYNC_RUN, RESYNC_LAST), so a rebuild knows when it has
    them all."""
    sent = 0
    run = {RESYNC_RUN: str(uuid.uuid4())}
    async with (
        db.connection(settings, application_name="cms-resync") as conn,
        amqp.confirming_channel(settings.amqp_url) as channel,
    ):
        articles = await store.every_after(conn, uuid.UUID(int=0), BATCH)
        while articles:
            # One batch ahead, to know which one is the last.
            following = await store.every_after(conn, articles[-1].id, BATCH)
            now = datetime.now(UTC)
            await publish_to_queue(
                channel,
                queue,
                [_current_state(article, now) for article in articles],
                headers=run,
                last_headers=None if following else {RESYNC_LAST: sent + len(articles)},
            )
            sent += len(articles)
            progress(len(articles))
            articles = following
    return sent


def state_kind(article: Article) -> EventKind:
    """The event that leaves a consumer with the article as it is now."""
    if article.deleted_at is not None:
        return "deleted"
    if article.status == "published":
        return "published"
    if article.status == "unpublished":
        return "unpublished"
    if article.status == "killed":
        return "killed"
    return "updated"


def _current_state(article: Article, now: datetime) -> outbox.Pending:
    event_id = uuid.uuid4()
    event = envelope(state_kind(article), article, event_id=event_id, time=now)
    event["sequence"] = RESYNC_SEQUENCE
    return outbox.Pending(
        sequence=0,
        event_id=event_id,
        event_type=event["type"],
        correlation_id=f"resync-{event_id.hex}",
        created_at=now,
        body=orjson.dumps(event),
    )
