"""The outbox relay: publishes committed events to RabbitMQ, in order, never losing one.

One relay is active at a time (a PostgreSQL session advisory lock); others wait as hot
standbys and take over when the active one's session ends. The active relay wakes on
NOTIFY and also polls, reads rows not yet sent (so a transaction that committed late is
still found), publishes them pipelined on one confirming channel, and marks them sent only
once the broker confirmed them. A failure of the broker or the database means: back off,
reconnect, resume. A row refused for what it is (the encoder cannot write it, or it is over
the broker's message size) is parked instead, so it never holds up the rows behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from cms.events import outbox
from cms.events.broker import Broker, Refused, refused
from cms.platform import db
from cms.platform.amqp import BROKER_ERRORS
from cms.platform.workers import backoff, sleep_or_stop, wait_any
from cms.settings import Settings

log = structlog.get_logger(__name__)

# Fixed key: every relay of one database competes for the same lock.
LEADER_LOCK = 0x636D735F72656C  # "cms_rel"
CHANNEL = "cms_outbox"
# Unreachable, or the relay's own session ended by a server-side timeout: reconnect either way.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    *db.UNREACHABLE,
    asyncpg.QueryCanceledError,
    asyncpg.IdleInTransactionSessionTimeoutError,
)


FAILURE_KINDS = ("broker", "database", "parked", "unexpected")


class BrokerFailed(Exception):
    """The broker side failed (connect, publish, confirm): named apart from database errors,
    which are often the same Python types (OSError, TimeoutError)."""


class RelayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter("cms_relay_published", "Events confirmed by the broker", registry=registry)
        self.failures = Counter(
            "cms_relay_failures",
            "Failures by kind: broker, database, parked (a row refused), unexpected (a bug)",
            ["kind"],
            registry=registry,
        )
        for kind in FAILURE_KINDS:
            self.failures.labels(kind)  # every series exists from the start, at 0
        self.backlog = Gauge(
            "cms_relay_backlog",
            "Outbox rows waiting to be published (neither sent nor parked)",
            registry=registry,
        )
        self.oldest = Gauge(
            "cms_relay_oldest_unsent_seconds",
            "Age of the oldest outbox row waiting to be published; 0 when none waits",
            registry=registry,
        )
        self.parked = Counter(
            "cms_relay_parked", "Outbox rows this relay parked as unpublishable", registry=registry
        )
        self.parked_rows = Gauge("cms_relay_parked_rows", "Outbox rows parked now", registry=registry)
        self.leader = Gauge("cms_relay_leader", "1 while this relay is the active one", registry=registry)
        self.lag = Histogram(
            "cms_relay_lag_seconds",
            "From the writing transaction to the broker's confirm",
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.batch_rows = Histogram(
            "cms_relay_batch_rows",
            "Rows per published batch (capped by CMS_RELAY_BATCH_SIZE and CMS_RELAY_BATCH_BYTES)",
            registry=registry,
            buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000),
        )
        self.batch_bytes = Histogram(
            "cms_relay_batch_bytes",
            "Message body bytes per published batch",
            registry=registry,
            buckets=tuple(2**n for n in range(16, 28, 2)),  # 64 KiB … 128 MiB
        )

    def measured(self, backlog: outbox.Backlog) -> None:
        self.backlog.set(backlog.pending)
        self.oldest.set(backlog.oldest_seconds)
        self.parked_rows.set(backlog.parked)


class Relay:
    name = "relay"

    def __init__(self, settings: Settings, registry: CollectorRegistry | None = None) -> None:
        self.settings = settings
        self.metrics = RelayMetrics(registry or CollectorRegistry())
        self.is_leader = False
        self.broker_connected = False
        self._wake = asyncio.Event()
        self._next_measure = 0.0

    def ready(self) -> bool:
        """A standby is ready too: it is doing its job, which is waiting."""
        return self.broker_connected or not self.is_leader

    async def run(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                await self._lead(stop)
                attempt = 0
            except BrokerFailed as exc:
                attempt += 1
                self._failed("broker", exc, attempt)
            except (*DATABASE_ERRORS, *BROKER_ERRORS) as exc:
                # Every broker call is wrapped in BrokerFailed, so what is left of the types the
                # two share (OSError, TimeoutError) came from the database.
                attempt += 1
                self._failed("database" if isinstance(exc, DATABASE_ERRORS) else "broker", exc, attempt)
            except Exception:
                # A bug, not an outage: say so loudly, but keep trying rather than go quiet.
                attempt += 1
                self.metrics.failures.labels("unexpected").inc()
                log.exception("relay.failed", attempt=attempt)
            finally:
                self._lost()
            await sleep_or_stop(stop, backoff(attempt))

    def _failed(self, kind: str, exc: BaseException, attempt: int) -> None:
        self.metrics.failures.labels(kind).inc()
        log.warning("relay.reconnecting", kind=kind, error=repr(exc), attempt=attempt)

    async def _lead(self, stop: asyncio.Event) -> None:
        async with self._leadership(stop) as conn:
            if conn is None:
                return
            # Before the broker: while it is down, each attempt still refreshes the figures.
            await self._measure(conn, force=True)
            async with contextlib.AsyncExitStack() as stack:
                try:
                    broker = await stack.enter_async_context(
                        Broker(
                            self.settings.amqp_url,
                            self.settings.exchange,
                            confirm_timeout=self.settings.relay_confirm_timeout,
                            max_message_bytes=self.settings.relay_max_message_bytes,
                        )
                    )
                except BROKER_ERRORS as exc:
                    raise BrokerFailed(f"cannot connect: {exc!r}") from exc
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
                await self._measure(conn)  # a standby reports the same figures as the leader
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
            await self._measure(conn)
            if rows:
                rows = await self._send(conn, broker, rows)
                continue
            await wait_any(self._wake, stop, seconds=self.settings.relay_poll_interval)
            if conn.is_closed():
                raise ConnectionError("lost the database connection while idle")
            if not broker.connected:
                raise BrokerFailed("lost the broker connection while idle")
            rows = await self._unsent(conn)

    async def _measure(self, conn: asyncpg.Connection[asyncpg.Record], *, force: bool = False) -> None:
        """Refresh the backlog figures: at most once per poll interval, and, should the
        backlog be so large that counting it takes a while, spending at most about 2 % of the
        time on it."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        if not force and started < self._next_measure:
            return
        self.metrics.measured(await outbox.backlog(conn))
        took = loop.time() - started
        self._next_measure = started + max(self.settings.relay_poll_interval, 50 * took)

    async def _unsent(
        self, conn: asyncpg.Connection[asyncpg.Record], in_flight: list[int] | None = None
    ) -> list[outbox.Pending]:
        self._wake.clear()  # a NOTIFY from now on may be a row this read does not see: look again
        return await outbox.unsent(
            conn,
            self.settings.relay_batch_size,
            max_bytes=self.settings.relay_batch_bytes,
            excluding=in_flight or (),
        )

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
        A row refused for what it is does not stop the rest: it is parked, and the rows behind
        it go on in their order.
        """
        self.metrics.batch_rows.observe(len(rows))
        self.metrics.batch_bytes.observe(sum(len(row.body) for row in rows))
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
                if failure is not None and refused(failure):
                    await self._park(conn, rows[done], failure)
                    publishing.skip()
                    done += 1
                elif failure is not None:
                    failed = rows[done]
                    log.warning(
                        "relay.publish_failed",
                        sequence=failed.sequence,
                        event_id=str(failed.event_id),
                        event_type=failed.event_type,
                        error=repr(failure),
                    )
                    # Unroutable, nacked, timed out or a lost connection: nothing says the row
                    # is at fault, so keep it, reconnect and try again later.
                    raise BrokerFailed(f"publish of sequence {failed.sequence} failed: {failure!r}")
        finally:
            publishing.cancel()  # after a failure: stop waiting for the rest, which stays unsent
        return following

    async def _park(
        self, conn: asyncpg.Connection[asyncpg.Record], row: outbox.Pending, failure: BaseException
    ) -> None:
        reason = str(failure) if isinstance(failure, Refused) else f"refused by the encoder: {failure!r}"
        if not await outbox.park(conn, row.sequence, reason):
            return
        self.metrics.parked.inc()
        self.metrics.failures.labels("parked").inc()
        self.metrics.parked_rows.inc()
        # An event that no consumer will see until someone acts: as loud as the relay gets.
        log.error(
            "relay.event_parked",
            sequence=row.sequence,
            event_id=str(row.event_id),
            event_type=row.event_type,
            reason=reason,
            action="fix the row, then `cms events unpark SEQUENCE`; see `cms events parked`",
        )

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
