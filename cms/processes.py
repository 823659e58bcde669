"""Which workers each kind of process runs."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from cms.deps import Services
from cms.events.relay import Relay
from cms.events.retention import Pruner
from cms.scheduler import Scheduler
from cms.workers import Worker, WorkerFactory


def _relay(services: Services, registry: CollectorRegistry) -> Worker:
    return Relay(services.settings, registry)


def _scheduler(services: Services, registry: CollectorRegistry) -> Worker:
    return Scheduler(services.pool, services.settings.scheduler_interval)


def _pruner(services: Services, registry: CollectorRegistry) -> Worker:
    return Pruner(services.pool, services.settings.event_retention)


RELAY: list[WorkerFactory] = [_relay, _scheduler, _pruner]
