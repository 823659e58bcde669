"""The API process's in-process delivery cache: which answers it keeps, and the event
subscription that drops them when a story changes.

Each API process subscribes with a queue of its own (exclusive, auto-delete: it goes with the
connection), bound to every article event. The cache serves only while that subscription is
up: it starts empty once the queue is consuming, and stops (and empties) the moment the
connection, the channel or the consumer is lost. A broker gone silent is noticed within
twice `CMS_DELIVERY_CACHE_HEARTBEAT` seconds (see `_watch`); every entry also expires after
`CMS_DELIVERY_CACHE_TTL` seconds, the bound on staleness should the events themselves stop
coming (the relay down) while the subscription stays up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import uuid
from typing import Any

import aio_pika
import orjson
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from prometheus_client import CollectorRegistry

from cms.articles.model import SLUG_PATTERN
from cms.articles.text import SLUG_MAX
from cms.platform import amqp, cache_keys, workers
from cms.platform.amqp import BROKER_ERRORS
from cms.platform.response_cache import CacheMetrics, ResponseCache
from cms.platform.services import Services
from cms.settings import Settings

log = structlog.get_logger(__name__)

_ARTICLES = "/v1/content/articles"
_ONE_ARTICLE = re.compile(r"/v1/content/articles/" + SLUG_PATTERN.removeprefix("^").removesuffix("$"))
# A creation changes nothing readers see: a draft is not delivered.
_IGNORED = {"cms.article.created"}
# Every list a change may touch: its old and new section, tags and language are not all in
# the event, and the first pages are few.
_LISTS = ("list:",)


def cacheable(path: str, query_string: bytes) -> bool:
    """The hottest answers: an article by slug, and first list pages (without a cursor);
    deeper pages are many and rarely read again."""
    if path == _ARTICLES:
        return b"cursor" not in query_string
    return len(path) <= len(_ARTICLES) + 1 + SLUG_MAX and _ONE_ARTICLE.fullmatch(path) is not None


def build_cache(settings: Settings, registry: CollectorRegistry) -> ResponseCache:
    return ResponseCache(
        CacheMetrics(registry),
        max_entries=settings.delivery_cache_max_entries,
        max_bytes=settings.delivery_cache_max_bytes,
        ttl=settings.delivery_cache_ttl,
        settle=settings.delivery_cache_settle,
    )


def surrogates_of(body: bytes) -> list[str] | None:
    """What an event makes stale: the article's own key (its page, and every page showing it as
    "see also"); None for an event that changes nothing delivered, or that is not ours."""
    try:
        event: Any = orjson.loads(body)
        kind, subject = event["type"], event["subject"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if not isinstance(kind, str) or not isinstance(subject, str) or kind in _IGNORED:
        return None
    return [cache_keys.article(subject)]


class CacheInvalidation:
    """A worker: keeps the subscription up and the cache serving only while it is."""

    name = "delivery-cache"

    def __init__(self, settings: Settings, cache: ResponseCache) -> None:
        self.settings = settings
        self.cache = cache
        # Whose queue it is, for an operator looking at the broker.
        self._owner = f"{settings.amqp_prefix}.delivery-cache.{socket.gethostname()[:64]}.{os.getpid()}"
        self.queue_name = ""

    def ready(self) -> bool:
        # Without its subscription the process still answers every read, from the database: a
        # broker outage must not take every API process out of the load balancer. The
        # `cms_delivery_cache_serving` gauge says whether the cache is on.
        return True

    async def run(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            if await workers.sleep_or_stop(stop, workers.backoff(attempt)):
                return
            lost = asyncio.Event()
            connection: AbstractConnection | None = None
            # A new name each time: after a silent outage the broker may still hold the old
            # exclusive queue (its connection not yet timed out), and would refuse the name.
            self.queue_name = f"{self._owner}.{uuid.uuid4().hex[:8]}"
            try:
                connection = await amqp.connect(
                    self.settings.amqp_url, heartbeat=self.settings.delivery_cache_heartbeat
                )
                channel = await self._subscribe(connection, lost)
                self.cache.start()
                attempt = 0
                log.info("delivery_cache.serving", queue=self.queue_name)
                await self._watch(channel, stop, lost)
                if lost.is_set():
                    log.warning("delivery_cache.subscription_lost")
            except BROKER_ERRORS as exc:
                log.warning("delivery_cache.subscription_failed", error=repr(exc))
            finally:
                self.cache.stop()
                if connection is not None and not connection.is_closed:
                    with contextlib.suppress(*BROKER_ERRORS):
                        await asyncio.wait_for(connection.close(), timeout=5)
            attempt += 1

    async def _watch(self, channel: AbstractChannel, stop: asyncio.Event, lost: asyncio.Event) -> None:
        """Until stopped or lost. A broker that went silent closes nothing, and aiormq waits
        three heartbeats and more before it gives up: every `heartbeat` seconds the queue is
        declared again (passively), and no answer within `heartbeat` seconds counts as lost.
        So a silent broker stops the cache within twice `heartbeat` seconds."""
        seconds = self.settings.delivery_cache_heartbeat
        while True:
            await workers.wait_any(stop, lost, seconds=seconds)
            if stop.is_set() or lost.is_set():
                return
            try:
                await asyncio.wait_for(channel.declare_queue(self.queue_name, passive=True), timeout=seconds)
            except BROKER_ERRORS as exc:
                log.warning("delivery_cache.probe_failed", error=repr(exc))
                lost.set()
                return

    async def _subscribe(self, connection: AbstractConnection, lost: asyncio.Event) -> AbstractChannel:
        """Declare and consume this process's queue; `lost` is set when any part of it goes."""
        connection.close_callbacks.add(lambda *_: lost.set())
        channel = await connection.channel()
        channel.close_callbacks.add(lambda *_: lost.set())
        underlay = await channel.get_underlay_channel()
        # The broker cancels the consumer when the queue is deleted; the channel stays open.
        underlay.on_consumer_cancel_callbacks.add(lambda *_: lost.set())
        exchange = await channel.declare_exchange(
            self.settings.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(self.queue_name, exclusive=True, auto_delete=True)
        await queue.bind(exchange, "article.#")
        await queue.consume(self._on_event, no_ack=True)
        return channel

    async def _on_event(self, message: AbstractIncomingMessage) -> None:
        self.cache.metrics.events.inc()
        surrogates = surrogates_of(message.body)
        if surrogates is None:
            return
        dropped = self.cache.invalidate(surrogates, prefixes=_LISTS)
        log.debug("delivery_cache.invalidated", keys=surrogates, entries=dropped)


def worker_factory(settings: Settings, cache: ResponseCache) -> workers.WorkerFactory:
    def make(services: Services, registry: CollectorRegistry) -> workers.Worker:
        return CacheInvalidation(settings, cache)

    return make
