"""The webhooks store (schema `webhooks`): subscriptions, the event journal, the deliveries
(an outbox per subscription) and the attempts log. Plain SQL, one function per statement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cms.events.contract import ArticleEvent
from cms.platform.db import Connection

NOTIFY_CHANNEL = "webhooks_due"

# A delivery's id (the `webhook-id`) is a hash of its subscription and event, so the same
# event applied again, or replayed, is the same delivery and never a second one.
_DELIVERY_ID = "md5(s.id::text || '/' || e.event_id::text)::uuid"
# Whether the event row `e` is one the subscription `s` wants (an empty list: any).
_MATCHES = """
    (cardinality(s.event_types) = 0 OR e.type = ANY(s.event_types))
    AND (cardinality(s.sections) = 0 OR e.section = ANY(s.sections))
    AND (cardinality(s.languages) = 0 OR e.language = ANY(s.languages))
    AND (cardinality(s.tags) = 0 OR e.tags && s.tags)"""


@dataclass(frozen=True)
class Subscription:
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    sections: list[str]
    languages: list[str]
    tags: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while its overlap lasts."""
        keep = self.previous_secret is not None and self.previous_secret_until is not None
        if keep and self.previous_secret_until is not None and self.previous_secret_until > now:
            assert self.previous_secret is not None
            return [self.secret, self.previous_secret]
        return [self.secret]


@dataclass(frozen=True)
class Delivery:
    id: uuid.UUID
    seq: int
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    article_id: uuid.UUID
    article_version: int
    status: str
    attempts: int
    next_attempt_at: datetime
    failing_since: datetime | None
    last_status: int | None
    last_error: str | None
    requests: int
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    id: uuid.UUID
    delivery_id: uuid.UUID
    subscription_id: uuid.UUID
    attempted_at: datetime
    status: int | None
    latency_ms: int
    error: str | None
    response_excerpt: str | None


@dataclass(frozen=True)
class Head:
    """An article's next delivery for a subscription, and whether it is due now."""

    delivery: Delivery
    body: dict[str, Any]
    due: bool


_SUB_COLUMNS = (
    "id, url, description, event_types, sections, languages, tags, enabled, disabled_reason, "
    "disabled_at, secret, previous_secret, previous_secret_until, created_by, created_at, updated_at"
)
_DELIVERY_COLUMNS = (
    "d.id, d.seq, d.subscription_id, d.event_id, d.event_type, d.article_id, d.article_version, "
    "d.status, d.attempts, d.next_attempt_at, d.failing_since, d.last_status, d.last_error, "
    "d.requests, d.created_at, d.delivered_at"
)
_DELIVERY_FIELDS = [c.removeprefix("d.") for c in _DELIVERY_COLUMNS.split(", ")]


def _subscription(row: Any) -> Subscription:
    return Subscription(**dict(row))


def _delivery(row: Any) -> Delivery:
    return Delivery(**{name: row[name] for name in _DELIVERY_FIELDS})


# --- subscriptions ------------------------------------------------------------------------------


async def insert_subscription(conn: Connection, values: dict[str, Any]) -> Subscription:
    row = await conn.fetchrow(
        f"""INSERT INTO webhooks.subscriptions
            (id, url, description, event_types, sections, languages, tags, enabled, secret, created_by,
             disabled_at, disabled_reason)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                CASE WHEN $8 THEN NULL ELSE now() END, CASE WHEN $8 THEN NULL ELSE 'disabled by an admin' END)
        RETURNING {_SUB_COLUMNS}""",
        values["id"],
        values["url"],
        values["description"],
        values["event_types"],
        values["sections"],
        values["languages"],
        values["tags"],
        values["enabled"],
        values["secret"],
        values["created_by"],
    )
    return _subscription(row)


async def subscription(
    conn: Connection, subscription_id: uuid.UUID, *, lock: bool = False
) -> Subscription | None:
    row = await conn.fetchrow(
        f"SELECT {_SUB_COLUMNS} FROM webhooks.subscriptions WHERE id = $1{' FOR UPDATE' if lock else ''}",
        subscription_id,
    )
    return None if row is None else _subscription(row)


async def subscriptions_page(
    conn: Connection, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> list[Subscription]:
    at, last = after if after is not None else (None, None)
    rows = await conn.fetch(
        f"""SELECT {_SUB_COLUMNS} FROM webhooks.subscriptions
        WHERE $1::timestamptz IS NULL OR (created_at, id) < ($1, $2)
        ORDER BY created_at DESC, id DESC LIMIT $3""",
        at,
        last,
        limit,
    )
    return [_subscription(row) for row in rows]


_UPDATABLE = ("url", "description", "event_types", "sections", "languages", "tags")


async def update_subscription(
    conn: Connection, subscription_id: uuid.UUID, changes: dict[str, Any]
) -> Subscription:
    fields = [name for name in _UPDATABLE if name in changes]
    sets = [f"{name} = ${i + 2}" for i, name in enumerate(fields)]
    row = await conn.fetchrow(
        f"UPDATE webhooks.subscriptions SET {', '.join([*sets, 'updated_at = now()'])} WHERE id = $1 "
        f"RETURNING {_SUB_COLUMNS}",
        subscription_id,
        *(changes[name] for name in fields),
    )
    return _subscription(row)


async def enable(conn: Connection, subscription_id: uuid.UUID) -> None:
    """Enabled again: what waits is due now, with a fresh retry window."""
    await conn.execute(
        "UPDATE webhooks.subscriptions SET enabled = true, disabled_reason = NULL, disabled_at = NULL, "
        "updated_at = now() WHERE id = $1",
        subscription_id,
    )
    await conn.execute(
        "UPDATE webhooks.deliveries SET next_attempt_at = now(), failing_since = NULL, "
        "requests = requests + 1 WHERE subscription_id = $1 AND status = 'pending'",
        subscription_id,
    )
    await notify(conn, subscription_id)


async def disable(conn: Connection, subscription_id: uuid.UUID, reason: str) -> bool:
    """True if it was enabled until now."""
    done = await conn.fetchval(
        "UPDATE webhooks.subscriptions SET enabled = false, disabled_reason = $2, disabled_at = now(), "
        "updated_at = now() WHERE id = $1 AND enabled RETURNING id",
        subscription_id,
        reason[:500],
    )
    return done is not None


async def rotate_secret(
    conn: Connection, subscription_id: uuid.UUID, secret: str, overlap_seconds: float
) -> Subscription | None:
    row = await conn.fetchrow(
        f"""UPDATE webhooks.subscriptions
        SET previous_secret = secret, previous_secret_until = now() + make_interval(secs => $3),
            secret = $2, updated_at = now()
        WHERE id = $1 RETURNING {_SUB_COLUMNS}""",
        subscription_id,
        secret,
        overlap_seconds,
    )
    return None if row is None else _subscription(row)


async def delete_subscription(conn: Connection, subscription_id: uuid.UUID) -> bool:
    done = await conn.fetchval(
        "DELETE FROM webhooks.subscriptions WHERE id = $1 RETURNING id", subscription_id
    )
    return done is not None


# --- applying an event ----------------------------------------------------------------------------


async def journal(conn: Connection, event: ArticleEvent) -> None:
    article = event.data
    await conn.execute(
        """INSERT INTO webhooks.events
            (event_id, type, article_id, article_version, section, language, tags, time, body)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING""",
        event.id,
        event.type,
        article.id,
        event.articleversion,
        article.section,
        article.language,
        list(article.tags),
        event.time,
        event.model_dump(mode="json"),
    )


async def enqueue(conn: Connection, event_id: uuid.UUID) -> list[uuid.UUID]:
    """A delivery of the journalled event for every enabled subscription that wants it; the
    subscriptions that got one. A disabled subscription gets none (a replay can fill the gap)."""
    rows = await conn.fetch(
        f"""INSERT INTO webhooks.deliveries
            (id, subscription_id, event_id, event_type, article_id, article_version)
        SELECT {_DELIVERY_ID}, s.id, e.event_id, e.type, e.article_id, e.article_version
        FROM webhooks.events e JOIN webhooks.subscriptions s ON s.enabled AND {_MATCHES}
        WHERE e.event_id = $1
        ON CONFLICT (subscription_id, event_id) DO NOTHING
        RETURNING subscription_id""",
        event_id,
    )
    return [row["subscription_id"] for row in rows]


async def notify(conn: Connection, subscription_id: uuid.UUID) -> None:
    """Wakes the delivery worker when the transaction commits."""
    await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(subscription_id))


async def replay(conn: Connection, subscription_id: uuid.UUID, since: datetime, until: datetime) -> int:
    """Deliveries again for the journalled events in [since, until) that the subscription wants
    now: new ones for events it never had, the delivered ones back to pending (same webhook-id,
    their place in each article's order kept). How many will be sent."""
    count: int = await conn.fetchval(
        f"""WITH queued AS (
            INSERT INTO webhooks.deliveries
                (id, subscription_id, event_id, event_type, article_id, article_version)
            SELECT {_DELIVERY_ID}, s.id, e.event_id, e.type, e.article_id, e.article_version
            FROM webhooks.events e JOIN webhooks.subscriptions s ON s.id = $1 AND {_MATCHES}
            WHERE e.time >= $2 AND e.time < $3
            ORDER BY e.article_id, e.article_version
            ON CONFLICT (subscription_id, event_id) DO UPDATE
                SET status = 'pending', next_attempt_at = now(), failing_since = NULL, delivered_at = NULL,
                    requests = webhooks.deliveries.requests + 1
            RETURNING 1
        ) SELECT count(*) FROM queued""",
        subscription_id,
        since,
        until,
    )
    return count


# --- delivering ------------------------------------------------------------------------------------


async def subscriptions_due(conn: Connection) -> list[uuid.UUID]:
    rows = await conn.fetch(
        """SELECT s.id FROM webhooks.subscriptions s WHERE s.enabled AND EXISTS (
            SELECT 1 FROM webhooks.deliveries d
            WHERE d.subscription_id = s.id AND d.status = 'pending' AND d.next_attempt_at <= now())"""
    )
    return [row["id"] for row in rows]


async def heads(
    conn: Connection, subscription_id: uuid.UUID, busy: list[uuid.UUID], limit: int
) -> list[Head]:
    """Each article's next delivery (its pending one with the lowest version) for articles not
    in flight: the due ones first, then the soonest due. Nothing later of an article is ever
    offered while an earlier one is pending, so a later version never overtakes."""
    rows = await conn.fetch(
        f"""SELECT {_DELIVERY_COLUMNS}, e.body, d.next_attempt_at <= now() AS due
        FROM webhooks.deliveries d JOIN webhooks.events e ON e.event_id = d.event_id
        WHERE d.subscription_id = $1 AND d.status = 'pending' AND NOT d.article_id = ANY($2::uuid[])
          AND NOT EXISTS (
            SELECT 1 FROM webhooks.deliveries earlier
            WHERE earlier.subscription_id = d.subscription_id AND earlier.article_id = d.article_id
              AND earlier.status = 'pending'
              AND (earlier.article_version, earlier.seq) < (d.article_version, d.seq))
        ORDER BY d.next_attempt_at, d.seq LIMIT $3""",
        subscription_id,
        busy,
        limit,
    )
    return [Head(_delivery(row), row["body"], row["due"]) for row in rows]


async def record_attempt(conn: Connection, attempt: Attempt) -> None:
    await conn.execute(
        """INSERT INTO webhooks.attempts
            (id, delivery_id, subscription_id, attempted_at, status, latency_ms, error, response_excerpt)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        attempt.id,
        attempt.delivery_id,
        attempt.subscription_id,
        attempt.attempted_at,
        attempt.status,
        attempt.latency_ms,
        attempt.error,
        attempt.response_excerpt,
    )


async def mark_delivered(conn: Connection, delivery: Delivery, status: int) -> None:
    """Delivered, unless a resend was asked for while the attempt was in flight: then it stays
    pending, due now."""
    await conn.execute(
        """UPDATE webhooks.deliveries SET attempts = attempts + 1, last_status = $2, last_error = NULL,
            failing_since = NULL,
            status = CASE WHEN requests = $3 THEN 'delivered' ELSE status END,
            delivered_at = CASE WHEN requests = $3 THEN now() ELSE delivered_at END,
            next_attempt_at = CASE WHEN requests = $3 THEN next_attempt_at ELSE now() END
        WHERE id = $1""",
        delivery.id,
        status,
        delivery.requests,
    )


async def receiver_is_back(conn: Connection, subscription_id: uuid.UUID) -> int:
    """After a 2xx: deliveries waiting out a backoff because the receiver could not be reached
    (no answer at all) are due now, so the backlog goes as soon as the receiver is back rather
    than when each one's jittered pause ends. Those that got an answer (a 500 for that event)
    keep their pause. How many were brought forward."""
    result = await conn.execute(
        """UPDATE webhooks.deliveries SET next_attempt_at = now()
        WHERE subscription_id = $1 AND status = 'pending' AND next_attempt_at > now()
          AND failing_since IS NOT NULL AND last_status IS NULL""",
        subscription_id,
    )
    return int(result.split()[-1])


async def mark_failed(
    conn: Connection,
    delivery: Delivery,
    *,
    status: int | None,
    error: str,
    failing_since: datetime,
    next_attempt_at: datetime,
) -> None:
    """A resend asked for while the attempt was in flight keeps its `now` and a fresh window."""
    await conn.execute(
        """UPDATE webhooks.deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3,
            failing_since = CASE WHEN requests = $6 THEN $4::timestamptz ELSE NULL END,
            next_attempt_at = CASE WHEN requests = $6 THEN $5::timestamptz ELSE now() END
        WHERE id = $1""",
        delivery.id,
        status,
        error[:1000],
        failing_since,
        next_attempt_at,
        delivery.requests,
    )


async def redeliver(conn: Connection, delivery_id: uuid.UUID) -> Delivery | None:
    row = await conn.fetchrow(
        f"""UPDATE webhooks.deliveries d
        SET status = 'pending', next_attempt_at = now(), failing_since = NULL, delivered_at = NULL,
            requests = d.requests + 1
        WHERE d.id = $1 RETURNING {_DELIVERY_COLUMNS}""",
        delivery_id,
    )
    return None if row is None else _delivery(row)


# --- the log -----------------------------------------------------------------------------------


async def deliveries_page(
    conn: Connection,
    subscription_id: uuid.UUID,
    status: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Delivery]:
    at, last = after if after is not None else (None, None)
    rows = await conn.fetch(
        f"""SELECT {_DELIVERY_COLUMNS} FROM webhooks.deliveries d
        WHERE d.subscription_id = $1 AND ($2::text IS NULL OR d.status = $2)
          AND ($3::timestamptz IS NULL OR (d.created_at, d.id) < ($3, $4))
        ORDER BY d.created_at DESC, d.id DESC LIMIT $5""",
        subscription_id,
        status,
        at,
        last,
        limit,
    )
    return [_delivery(row) for row in rows]


async def delivery(conn: Connection, delivery_id: uuid.UUID) -> Delivery | None:
    row = await conn.fetchrow(
        f"SELECT {_DELIVERY_COLUMNS} FROM webhooks.deliveries d WHERE d.id = $1", delivery_id
    )
    return None if row is None else _delivery(row)


async def attempts_page(
    conn: Connection,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Attempt]:
    at, last = after if after is not None else (None, None)
    rows = await conn.fetch(
        """SELECT id, delivery_id, subscription_id, attempted_at, status, latency_ms, error, response_excerpt
        FROM webhooks.attempts
        WHERE subscription_id = $1 AND ($2::uuid IS NULL OR delivery_id = $2)
          AND ($3::timestamptz IS NULL OR (attempted_at, id) < ($3, $4))
        ORDER BY attempted_at DESC, id DESC LIMIT $5""",
        subscription_id,
        delivery_id,
        at,
        last,
        limit,
    )
    return [Attempt(**dict(row)) for row in rows]


# --- housekeeping ---------------------------------------------------------------------------------


async def trim_attempts(conn: Connection, keep: int) -> int:
    """Each subscription's log keeps its newest `keep` attempts."""
    result = await conn.execute(
        """DELETE FROM webhooks.attempts a USING (
            SELECT id FROM (
                SELECT id, row_number() OVER (
                    PARTITION BY subscription_id ORDER BY attempted_at DESC, id DESC) AS n
                FROM webhooks.attempts) ranked
            WHERE n > $1) old
        WHERE a.id = old.id""",
        keep,
    )
    return int(result.split()[-1])


async def prune(conn: Connection, older_than_seconds: float) -> int:
    """Events past retention leave the journal with their delivered deliveries; an event that
    still has a pending delivery stays until it is delivered."""
    result = await conn.execute(
        """DELETE FROM webhooks.events e
        WHERE e.received_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (
            SELECT 1 FROM webhooks.deliveries d WHERE d.event_id = e.event_id AND d.status = 'pending')""",
        older_than_seconds,
    )
    return int(result.split()[-1])
