"""Which workers each kind of process runs."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from cms.events.relay import Relay
from cms.events.retention import Pruner
from cms.platform.services import Services
from cms.platform.workers import Worker, WorkerFactory
from cms.scheduler import Scheduler
from cms.settings import Settings


def relay(settings: Settings) -> list[WorkerFactory]:
    """`cms relay`: the outbox relay, the scheduler and the event-log pruner."""

    def relay_worker(services: Services, registry: CollectorRegistry) -> Worker:
        return Relay(settings, registry)

    def scheduler(services: Services, registry: CollectorRegistry) -> Worker:
        return Scheduler(services.pool, settings.scheduler_interval)

    def pruner(services: Services, registry: CollectorRegistry) -> Worker:
        return Pruner(services.pool, settings.event_retention)

    return [relay_worker, scheduler, pruner]
