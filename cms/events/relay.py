"""The outbox relay: publishes committed events to RabbitMQ, in order, never losing one.

One relay is active at a time (a PostgreSQL session advisory lock); others wait as hot
standbys and take over when the active one's session ends. The active relay wakes on
NOTIFY and also polls, reads rows not yet sent (so a transaction that committed late is
still found), publishes them pipelined on one confirming channel, and marks them sent only
once the broker confirmed them. Any failure means: back off, reconnect, resume.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from cms import db
from cms.amqp import BROKER_ERRORS
from cms.events import outbox
from cms.events.broker import Broker
from cms.settings import Settings
from cms.workers import backoff, sleep_or_stop, wait_any

log = structlog.get_logger(__name__)

# Fixed key: every relay of one database competes for the same lock.
LEADER_LOCK = 0x636D735F72656C  # "cms_rel"
CHANNEL = "cms_outbox"
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.QueryCanceledError,
    asyncpg.IdleInTransactionSessionTimeoutError,
    asyncio.TimeoutError,
)


class RelayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter("cms_relay_published", "Events confirmed by the broker", registry=registry)
        self.failures = Counter(
            "cms_relay_failures", "Publish or connection failures", ["kind"], registry=registry
        )
        self.backlog = Gauge("cms_relay_backlog", "Outbox rows not yet sent", registry=registry)
        self.leader = Gauge("cms_relay_leader", "1 while this relay is the active one", registry=registry)
        self.lag = Histogram(
            "cms_relay_lag_seconds",
            "From the writing transaction to the broker's confirm",
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )


class Relay:
    name = "relay"

    def __init__(self, settings: Settings, registry: CollectorRegistry | None = None) -> None:
        self.settings = settings
        self.metrics = RelayMetrics(registry or CollectorRegistry())
        self.is_leader = False
        self.broker_connected = False
        self._wake = asyncio.Event()

    def ready(self) -> bool:
        """A standby is ready too: it is doing its job, which is waiting."""
        return self.broker_connected or not self.is_leader

    async def run(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                await self._lead(stop)
                attempt = 0
            except (*DATABASE_ERRORS, *BROKER_ERRORS) as exc:
                attempt += 1
                kind = "database" if isinstance(exc, DATABASE_ERRORS) else "broker"
                self.metrics.failures.labels(kind).inc()
                log.warning("relay.reconnecting", error=repr(exc), attempt=attempt)
            except Exception:
                # A bug, not an outage: say so loudly, but keep trying rather than go quiet.
                attempt += 1
                self.metrics.failures.labels("unexpected").inc()
                log.exception("relay.failed", attempt=attempt)
            finally:
                self._lost()
            await sleep_or_stop(stop, backoff(attempt))

    async def _lead(self, stop: asyncio.Event) -> None:
        async with self._leadership(stop) as conn:
            if conn is None:
                return
            async with Broker(
                self.settings.amqp_url,
                self.settings.exchange,
                confirm_timeout=self.settings.relay_confirm_timeout,
            ) as broker:
                self.broker_connected = True
                log.info("relay.active", exchange=self.settings.exchange)
                await self._pump(conn, broker, stop)

    @contextlib.asynccontextmanager
    async def _leadership(
        self, stop: asyncio.Event
    ) -> AsyncIterator[asyncpg.Connection[asyncpg.Record] | None]:
        """A connection holding the leader lock, or None if stopped while standing by."""
        conn = await db.connect(self.settings, application_name="cms-relay")
        try:
            # This session only marks rows sent. Not waiting for each mark to be flushed to disk
            # keeps the marks off the relay's critical path; a database crash can lose the last
            # few marks, which means only that those events are published again (at least once).
            await conn.execute("SET synchronous_commit = off")
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK):
                if await sleep_or_stop(stop, self.settings.relay_poll_interval):
                    yield None
                    return
            self.is_leader = True
            self.metrics.leader.set(1)
            await conn.add_listener(CHANNEL, self._notified)
            yield conn
        finally:
            # Closing the session releases the lock; a standby takes over within its poll interval.
            await _close_quietly(conn)

    async def _pump(
        self, conn: asyncpg.Connection[asyncpg.Record], broker: Broker, stop: asyncio.Event
    ) -> None:
        rows = await self._unsent(conn)
        while not stop.is_set():
            if rows:
                rows = await self._send(conn, broker, rows)
                continue
            self.metrics.backlog.set(0)
            await wait_any(self._wake, stop, seconds=self.settings.relay_poll_interval)
            if conn.is_closed() or not broker.connected:
                raise ConnectionError("lost a connection while idle")
            rows = await self._unsent(conn)

    async def _unsent(
        self, conn: asyncpg.Connection[asyncpg.Record], in_flight: list[int] | None = None
    ) -> list[outbox.Pending]:
        self._wake.clear()  # a NOTIFY from now on may be a row this read does not see: look again
        return await outbox.unsent(conn, self.settings.relay_batch_size, excluding=in_flight or ())

    async def _send(
        self, conn: asyncpg.Connection[asyncpg.Record], broker: Broker, rows: list[outbox.Pending]
    ) -> list[outbox.Pending]:
        """Publish `rows` and mark them sent as their confirms come in; returns the rows to
        publish next.

        The database works while the broker does: the next rows are read, and the first rows
        marked sent, while the broker still confirms the rest. The next rows are published only
        once all of these are confirmed and marked, as before: one batch in flight, order kept,
        a failure stops everything behind it, and a crash repeats at most this batch. The next
        read leaves out only the rows in flight, so a row that committed late is still found.
        """
        publishing = broker.publish(rows)
        try:
            following = await self._unsent(conn, [row.sequence for row in rows])
            done = 0
            step = _mark_step(len(rows))
            while not publishing.all_taken:
                confirmed, failure = await publishing.confirmed(at_least=step)
                if confirmed:
                    await outbox.mark_sent(conn, confirmed)
                    self._observe(rows[done : done + len(confirmed)])
                    done += len(confirmed)
                if failure is not None:
                    failed = rows[done]
                    log.warning(
                        "relay.publish_failed",
                        sequence=failed.sequence,
                        event_id=str(failed.event_id),
                        event_type=failed.event_type,
                        error=repr(failure),
                    )
                    # Unroutable, nacked or timed out: keep the row, reconnect, try again later.
                    raise ConnectionError(f"publish of sequence {failed.sequence} failed: {failure!r}")
        finally:
            publishing.cancel()  # after a failure: stop waiting for the rest, which stays unsent
        return following

    def _observe(self, sent: list[outbox.Pending]) -> None:
        now = datetime.now(UTC)
        self.metrics.published.inc(len(sent))
        for row in sent:
            self.metrics.lag.observe((now - row.created_at).total_seconds())
        log.debug("relay.published", count=len(sent), last_sequence=sent[-1].sequence)

    def _notified(self, *args: object) -> None:
        self._wake.set()

    def _lost(self) -> None:
        if self.is_leader:
            log.info("relay.standing_down")
        self.is_leader = False
        self.broker_connected = False
        self.metrics.leader.set(0)


def _mark_step(batch: int) -> int:
    """How many confirmed rows to mark sent at a time: a batch in about four steps, so that
    only the last step waits for the broker's final confirm; small batches in one step."""
    return max(batch // 4, min(batch, 100))


async def _close_quietly(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    try:
        await asyncio.wait_for(conn.close(), timeout=5)
    except Exception:  # closing is best effort; terminate drops the socket without a goodbye
        conn.terminate()
