"""The consumer run loop: subscribe, validate, claim the version, apply, commit, then ack.

Failures go through `decide`: an unreachable store puts the message back after a pause, a
failing handler sends it through a delay queue, and a message that keeps failing (or does not
validate) goes to the DLQ with the reason in its headers, while the rest flow on. The broker
connection is a plain one: when it drops, the loop reconnects and re-subscribes itself, since
robust connections have been seen to come back without their consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from cms.events.contract import ArticleEvent
from cms.platform import amqp, db
from cms.platform.amqp import BROKER_ERRORS
from cms.platform.workers import backoff, sleep_or_stop, wait_any
from consumers.runtime import claims, store, topology
from consumers.runtime.decide import DeadLetter, Requeue, Retry, decide
from consumers.runtime.locks import KeyedLocks
from consumers.runtime.metrics import ConsumerMetrics
from consumers.runtime.settings import ConsumerSettings
from consumers.runtime.spec import Apply, ConsumerSpec, Prepare, Store

log = structlog.get_logger(__name__)

ATTEMPT_HEADER = "x-cms-attempt"
REASON_HEADER = "x-cms-dead-letter-reason"
ERROR_HEADER = "x-cms-last-error"


class Consumer:
    def __init__(
        self,
        spec: ConsumerSpec[Any],
        settings: ConsumerSettings,
        registry: CollectorRegistry,
        store_holder: Store | None = None,
        apply: Apply | None = None,
        prepare: Prepare | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.settings = settings
        # What it does with an event: given by a process that bound the spec already.
        if apply is None:
            bound = spec.bind(settings)
            apply, prepare = bound.apply, bound.prepare
        self.apply = apply
        self.prepare = prepare
        self.queue = spec.queue(settings)
        self.metrics = ConsumerMetrics.of(registry)
        self.store = store_holder or Store()
        self.consuming = False
        self._locks = KeyedLocks()
        self._inflight: set[asyncio.Task[Any]] = set()
        self._channel: AbstractChannel | None = None
        self._topology: topology.Topology | None = None

    def ready(self) -> bool:
        return self.consuming and self.store.pool is not None

    async def run(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                await store.prepare(self.settings, self.spec)
                async with (
                    db.create_pool(
                        self.settings, dsn=self.spec.dsn(self.settings), application_name=f"cms-{self.name}"
                    ) as pool,
                    self._replica() as replica,
                ):
                    self.store.pool = pool
                    self.store.reads = db.ReadPool(pool, replica)
                    await self._consume(stop)
                attempt = 0
            except (*db.UNREACHABLE, *BROKER_ERRORS) as exc:
                attempt += 1
                log.warning("consumer.reconnecting", consumer=self.name, error=repr(exc), attempt=attempt)
            except Exception:
                attempt += 1
                log.exception("consumer.failed", consumer=self.name, attempt=attempt)
            finally:
                self.store.pool = self.store.reads = None
                self._set_consuming(False)
            if not stop.is_set():
                await sleep_or_stop(stop, backoff(attempt))

    @contextlib.asynccontextmanager
    async def _replica(self) -> AsyncIterator[db.Pool | None]:
        dsn = self.spec.replica_dsn(self.settings)
        if dsn is None:
            yield None
            return
        async with db.create_pool(
            self.settings, dsn=dsn, application_name=f"cms-{self.name}-replica", lazy=True
        ) as pool:
            yield pool

    async def _consume(self, stop: asyncio.Event) -> None:
        connection = await amqp.connect(self.settings.amqp_url)
        try:
            lost = asyncio.Event()
            connection.close_callbacks.add(lambda *_: lost.set())
            self._channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            await self._channel.set_qos(prefetch_count=self.settings.consumer_prefetch)
            self._topology = await topology.declare(
                self._channel,
                exchange=self.settings.exchange,
                queue=self.queue,
                routing_keys=self.spec.routing_keys,
                delays=self.settings.consumer_retry_delays,
            )
            tag = await self._topology.queue.consume(self._on_message)
            self._set_consuming(True)
            log.info("consumer.consuming", consumer=self.name, queue=self.queue)
            await wait_any(stop, lost)
            self._set_consuming(False)
            if lost.is_set():
                raise ConnectionError("the broker connection was lost")
            # SIGTERM: take no more, finish and ack what is in hand, then leave.
            await self._topology.queue.cancel(tag)
            await self._drain()
        finally:
            self._channel = None
            with contextlib.suppress(*BROKER_ERRORS):
                await asyncio.wait_for(connection.close(), timeout=5)

    async def _drain(self, grace: float = 30.0) -> None:
        if self._inflight:
            log.info("consumer.draining", consumer=self.name, in_flight=len(self._inflight))
            await asyncio.wait(list(self._inflight), timeout=grace)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._inflight.add(task)
        started = time.perf_counter()
        try:
            await self._handle(message)
        except BROKER_ERRORS as exc:
            # The ack or a republish could not be sent: the broker redelivers, the claim dedupes.
            log.warning("consumer.broker_lost_mid_message", consumer=self.name, error=repr(exc))
        finally:
            self.metrics.latency.labels(self.name).observe(time.perf_counter() - started)
            self._inflight.discard(task)
            structlog.contextvars.clear_contextvars()

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        attempt = _attempt(message)
        try:
            event = ArticleEvent.model_validate_json(message.body)
        except ValidationError as exc:
            await self._dead_letter(message, f"invalid event: {_summary(exc)}")
            return
        structlog.contextvars.bind_contextvars(
            consumer=self.name,
            event_id=str(event.id),
            article_id=event.subject,
            request_id=message.correlation_id,
            event_type=event.type,
        )
        async with self._locks.hold(event.subject):
            try:
                if self.prepare is not None:
                    await self.prepare(event)  # before the transaction: see Bound.prepare
                applied = await self._apply(event)
            except Exception as exc:
                self.metrics.failed.labels(self.name).inc()
                await self._on_failure(message, exc, attempt)
                return
        await message.ack()
        self.metrics.handled.labels(self.name, "applied" if applied else "skipped").inc()
        self.metrics.lag.labels(self.name).observe((datetime.now(UTC) - event.time).total_seconds())
        log.debug("consumer.handled", applied=applied, version=event.articleversion)

    async def _apply(self, event: ArticleEvent) -> bool:
        pool = self.store.pool
        if pool is None:
            raise ConnectionError("the store is not open")
        async with pool.acquire() as conn, conn.transaction():
            if self.spec.claim_versions and not await claims.claim(conn, self.spec.schema, event):
                return False  # stale or a redelivery: what it says is already applied
            await self.apply(conn, event)
        return True

    async def _on_failure(self, message: AbstractIncomingMessage, exc: Exception, attempt: int) -> None:
        decision = decide(
            exc,
            attempt,
            max_attempts=self.settings.consumer_max_attempts,
            delays=self.settings.consumer_retry_delays,
        )
        match decision:
            case Requeue(delay):
                log.warning("consumer.store_unavailable", error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
                await message.nack(requeue=True)
            case Retry(attempt=next_attempt, delay=delay):
                log.warning("consumer.retrying", error=repr(exc), attempt=next_attempt, delay=delay)
                await self._republish(
                    message,
                    self._retry_queue(delay),
                    {ATTEMPT_HEADER: next_attempt, ERROR_HEADER: _short(exc)},
                )
                self.metrics.retried.labels(self.name).inc()
            case DeadLetter(reason):
                await self._dead_letter(message, reason)

    async def _dead_letter(self, message: AbstractIncomingMessage, reason: str) -> None:
        assert self._topology is not None
        log.error("consumer.dead_lettered", reason=reason, message_id=message.message_id)
        await self._republish(message, self._topology.dlq, {REASON_HEADER: reason[:1000]})
        self.metrics.dead_lettered.labels(self.name).inc()

    async def _republish(self, message: AbstractIncomingMessage, queue: str, headers: dict[str, Any]) -> None:
        """Confirmed copy first, ack after: a crash in between gives a duplicate, never a loss."""
        assert self._channel is not None
        copy = topology.copy_of(message, {**(message.headers or {}), **headers})
        await self._channel.default_exchange.publish(copy, queue, mandatory=True)
        await message.ack()

    def _retry_queue(self, delay: float) -> str:
        """The first delay queue that waits at least `delay`, else the longest one."""
        assert self._topology is not None
        for name, seconds in zip(
            self._topology.retry_queues, self.settings.consumer_retry_delays, strict=True
        ):
            if seconds >= delay:
                return name
        return self._topology.retry_queues[-1]

    def _set_consuming(self, value: bool) -> None:
        self.consuming = value
        self.metrics.consuming.labels(self.name).set(1 if value else 0)


def _attempt(message: AbstractIncomingMessage) -> int:
    value = (message.headers or {}).get(ATTEMPT_HEADER, 0)
    return value if isinstance(value, int) and value >= 0 else 0


def _summary(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{exc.error_count()} error(s), first at {where}: {first['msg']}"


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
