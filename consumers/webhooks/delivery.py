"""The delivery worker: sends the queued deliveries, each subscription in its own lane.

- One active worker (a session advisory lock on its listening connection), like the relay: a
  second replica stands by, so a delivery is never sent by two processes at once.
- A lane per subscription with due work, each with at most `CMS_WEBHOOKS_CONCURRENCY` requests in
  flight, each for a different article: a slow or dead receiver fills only its own lane.
- Per article in order: a lane takes only an article's next delivery (its lowest pending
  version), and never a second one of an article in flight. A failure leaves that delivery at
  the head of its article, so nothing of that article overtakes it while it waits to retry.
- Every attempt is logged; the delivery is marked delivered only after a 2xx. A crash between
  the answer and the mark sends it again with the same `webhook-id`: at least once, and the
  receiver can tell a retry from a new message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx2
import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram

from cms.platform import db
from cms.platform.workers import sleep_or_stop, supervise, wait_any
from consumers.webhooks import safety, sender, store
from consumers.webhooks.handler import Webhooks
from consumers.webhooks.sender import Delivered, Disable, RetryAt

log = structlog.get_logger(__name__)

LEADER_LOCK = 0x77_65_62_68  # "webh": one delivery worker per store
HOUSEKEEPING_EVERY = 60.0
# Unreachable, or the consumer has not created its schema yet: wait and try again.
_NOT_YET: tuple[type[BaseException], ...] = (
    *db.UNREACHABLE,
    asyncpg.UndefinedTableError,
    asyncpg.InvalidSchemaNameError,
)
_LATENCY = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400)


class DeliveryMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "cms_webhook_attempts", "Delivery attempts by outcome", ["outcome"], registry=registry
        )
        self.disabled = Counter(
            "cms_webhook_subscriptions_disabled",
            "Subscriptions disabled by the worker (410, or failing past the retry window)",
            ["reason"],
            registry=registry,
        )
        self.latency = Histogram(
            "cms_webhook_delivery_seconds",
            "From the event's time to the receiver's 2xx",
            registry=registry,
            buckets=_LATENCY,
        )


class DeliveryWorker:
    name = "webhooks-delivery"

    def __init__(self, webhooks: Webhooks, registry: CollectorRegistry) -> None:
        self.webhooks = webhooks
        self.settings = webhooks.settings
        self.metrics = DeliveryMetrics(registry)
        self.is_leader = False
        self.connected = False
        self._wake = asyncio.Event()
        self._lanes: dict[uuid.UUID, Lane] = {}

    def ready(self) -> bool:
        return self.connected

    async def run(self, stop: asyncio.Event) -> None:
        await supervise(stop, self._lead, name="webhooks.delivery", expected=_NOT_YET, ended=self._ended)

    def _ended(self) -> None:
        self.connected = self.is_leader = False

    async def _lead(self, stop: asyncio.Event) -> None:
        async with (
            db.create_pool(
                self.settings, dsn=self.webhooks.dsn, application_name="cms-webhooks-delivery"
            ) as pool,
            self._leadership(stop) as conn,
        ):
            if conn is None:
                return
            await conn.add_listener(store.NOTIFY_CHANNEL, self._notified)
            log.info("webhooks.delivery_active")
            next_housekeeping = 0.0
            loop = asyncio.get_running_loop()
            try:
                while not stop.is_set():
                    self._wake.clear()
                    async with pool.acquire() as read:
                        due = await store.subscriptions_due(read)
                    for subscription_id in due:
                        self._lane(pool, subscription_id, stop)
                    if loop.time() >= next_housekeeping:
                        await self._housekeeping(pool)
                        next_housekeeping = loop.time() + HOUSEKEEPING_EVERY
                    await wait_any(self._wake, stop, seconds=self.settings.webhooks_poll_interval)
                    if conn.is_closed():
                        raise ConnectionError("lost the database connection while idle")
            finally:
                lanes = [lane.task for lane in self._lanes.values() if lane.task is not None]
                self._lanes.clear()
                if lanes:
                    await asyncio.wait(lanes, timeout=self.settings.webhooks_timeout + 5)
                    for task in lanes:
                        task.cancel()
                    await asyncio.gather(*lanes, return_exceptions=True)

    @contextlib.asynccontextmanager
    async def _leadership(
        self, stop: asyncio.Event
    ) -> AsyncIterator[asyncpg.Connection[asyncpg.Record] | None]:
        conn = await db.connect(self.settings, self.webhooks.dsn, application_name="cms-webhooks-leader")
        try:
            self.connected = True
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK):
                if await sleep_or_stop(stop, self.settings.webhooks_poll_interval):
                    yield None
                    return
            self.is_leader = True
            yield conn
        finally:
            with contextlib.suppress(*db.UNREACHABLE):
                await asyncio.wait_for(conn.close(), timeout=5)

    def _notified(self, *args: object) -> None:
        payload = args[-1]
        try:
            lane = self._lanes.get(uuid.UUID(str(payload)))
        except ValueError:
            lane = None
        if lane is not None:
            lane.wake.set()
        self._wake.set()

    def _lane(self, pool: db.Pool, subscription_id: uuid.UUID, stop: asyncio.Event) -> None:
        lane = self._lanes.get(subscription_id)
        if lane is not None and lane.task is not None and not lane.task.done():
            lane.wake.set()
            return
        lane = Lane(self, pool, subscription_id)
        self._lanes[subscription_id] = lane
        lane.task = asyncio.create_task(lane.run(stop), name=f"webhooks-lane-{subscription_id}")

    async def _housekeeping(self, pool: db.Pool) -> None:
        async with pool.acquire() as conn:
            trimmed = await store.trim_attempts(conn, self.settings.webhooks_log_attempts)
            pruned = await store.prune(conn, self.settings.webhooks_retention)
        if trimmed or pruned:
            log.info("webhooks.housekeeping", attempts_trimmed=trimmed, events_pruned=pruned)


class Lane:
    """One subscription's deliveries: up to `concurrency` articles at a time, each in order."""

    def __init__(self, worker: DeliveryWorker, pool: db.Pool, subscription_id: uuid.UUID) -> None:
        self.worker = worker
        self.settings = worker.settings
        self.pool = pool
        self.subscription_id = subscription_id
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._busy: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._client: httpx2.AsyncClient | None = None
        self._client_for: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        structlog.contextvars.bind_contextvars(subscription_id=str(self.subscription_id))
        try:
            await self._serve(stop)
        except Exception:
            log.exception("webhooks.lane_failed")
        finally:
            if self._busy:
                await asyncio.wait(list(self._busy.values()), timeout=self.settings.webhooks_timeout + 5)
            if self._client is not None:
                await self._client.aclose()

    async def _serve(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.wake.clear()
            async with self.pool.acquire() as conn:
                subscription = await store.subscription(conn, self.subscription_id)
                if subscription is None or not subscription.enabled:
                    return
                free = self.settings.webhooks_concurrency - len(self._busy)
                heads = (
                    await store.heads(conn, self.subscription_id, list(self._busy), max(free, 1))
                    if free
                    else []
                )
            client = await self._client_of(subscription.url)
            for head in heads:
                if head.due and len(self._busy) < self.settings.webhooks_concurrency:
                    task = asyncio.create_task(self._guarded(client, subscription, head))
                    self._busy[head.delivery.article_id] = task
                    task.add_done_callback(functools.partial(self._done, head.delivery.article_id))
            if not heads and not self._busy:
                return  # nothing waits; the worker starts a lane again when something does
            # A finishing attempt wakes the lane; otherwise it sleeps until the next retry is due.
            pause = self.settings.webhooks_poll_interval
            waits = [h.delivery.next_attempt_at for h in heads if not h.due]
            if waits and len(self._busy) < self.settings.webhooks_concurrency:
                pause = min(pause, max(0.01, (min(waits) - datetime.now(UTC)).total_seconds()))
            await wait_any(self.wake, stop, seconds=pause)

    def _done(self, article_id: uuid.UUID, _: object) -> None:
        self._busy.pop(article_id, None)
        self.wake.set()

    async def _client_of(self, url: str) -> httpx2.AsyncClient:
        """One client (and connection pool) per target, renewed when the URL changes."""
        if self._client is None or self._client_for != url:
            if self._client is not None:
                await self._client.aclose()
            transport = safety.GuardedTransport(
                self.worker.webhooks.resolver,
                self.worker.webhooks.allow,
                self.settings.webhooks_resolve_timeout,
                self.settings.webhooks_concurrency,
            )
            self._client = httpx2.AsyncClient(transport=transport, follow_redirects=False, trust_env=False)
            self._client_for = url
        return self._client

    async def _guarded(
        self, client: httpx2.AsyncClient, subscription: store.Subscription, head: store.Head
    ) -> None:
        """An attempt that could not be recorded (the store went away) leaves the delivery
        pending as it was: it is tried again, with the same id."""
        try:
            await self._deliver(client, subscription, head)
        except Exception:
            log.exception("webhooks.attempt_unrecorded", webhook_id=sender.webhook_id(head.delivery.id))

    async def _deliver(
        self, client: httpx2.AsyncClient, subscription: store.Subscription, head: store.Head
    ) -> None:
        delivery = head.delivery
        started = datetime.now(UTC)
        outcome = await sender.attempt(
            client,
            subscription.url,
            sender.webhook_id(delivery.id),
            sender.body_of(head.body),
            subscription.signing_secrets(started),
            self.settings,
        )
        now = datetime.now(UTC)
        step = sender.next_step(
            outcome,
            failures_before=delivery.attempts,
            failing_since=delivery.failing_since,
            now=now,
            settings=self.settings,
        )
        metrics = self.worker.metrics
        async with self.pool.acquire() as conn, conn.transaction():
            await store.record_attempt(
                conn,
                store.Attempt(
                    id=uuid.uuid4(),
                    delivery_id=delivery.id,
                    subscription_id=subscription.id,
                    attempted_at=started,
                    status=outcome.status,
                    latency_ms=outcome.latency_ms,
                    error=outcome.error,
                    response_excerpt=outcome.excerpt,
                ),
            )
            match step:
                case Delivered():
                    assert outcome.status is not None
                    await store.mark_delivered(conn, delivery, outcome.status)
                    # The lane wakes when this attempt's task ends, after the commit.
                    await store.receiver_is_back(conn, subscription.id)
                    metrics.attempts.labels("delivered").inc()
                    metrics.latency.observe((now - _event_time(head)).total_seconds())
                case RetryAt(at=at, failing_since=since):
                    await store.mark_failed(
                        conn,
                        delivery,
                        status=outcome.status,
                        error=outcome.error or "failed",
                        failing_since=since,
                        next_attempt_at=at,
                    )
                    metrics.attempts.labels("failed").inc()
                case Disable(reason=reason, failing_since=since):
                    await store.mark_failed(
                        conn,
                        delivery,
                        status=outcome.status,
                        error=outcome.error or "failed",
                        failing_since=since,
                        next_attempt_at=now,
                    )
                    metrics.attempts.labels("gone" if outcome.gone else "failed").inc()
                    if await store.disable(conn, subscription.id, reason):
                        metrics.disabled.labels("gone" if outcome.gone else "retry_window").inc()
                        # The notice: an operator alerts on the metric and reads this line.
                        log.error(
                            "webhooks.subscription_disabled",
                            url=subscription.url,
                            reason=reason,
                            webhook_id=sender.webhook_id(delivery.id),
                        )
        if not isinstance(step, Delivered):
            log.info(
                "webhooks.attempt_failed",
                webhook_id=sender.webhook_id(delivery.id),
                article_id=str(delivery.article_id),
                error=outcome.error,
            )


def _event_time(head: store.Head) -> datetime:
    text = str(head.body.get("time", ""))
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return head.delivery.created_at
