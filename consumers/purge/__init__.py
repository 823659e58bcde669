"""The purge consumer: when a story changes, purge exactly the cached answers it made stale
(by surrogate key) from Varnish, Fastly and Cloudflare, coalescing bursts. handler.py works out
and queues the keys in the consumer's transaction; worker.py sends them."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from cms.platform.services import Services
from cms.platform.workers import Worker
from consumers.purge import caches, handler
from consumers.purge.settings import PurgeSettings
from consumers.purge.worker import PurgeWorker
from consumers.runtime.spec import Bound, ConsumerSpec


def bind(settings: PurgeSettings) -> Bound:
    def worker(services: Services, registry: CollectorRegistry) -> Worker:
        return PurgeWorker(settings, caches.configured(settings), registry)

    return Bound(handler.apply, workers=(worker,))


SPEC = ConsumerSpec(
    name="purge",
    schema="purge",
    migrations=Path(__file__).parent / "migrations",
    settings_class=PurgeSettings,
    bind=bind,
    store_url=lambda settings: settings.purge_database_url,
    port=lambda settings: settings.purge_port,
    claim_versions=False,
)
