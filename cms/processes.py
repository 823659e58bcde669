"""Which workers each kind of process runs."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from cms.events.relay import Relay
from cms.events.retention import Pruner
from cms.platform.deps import Services
from cms.platform.workers import Worker, WorkerFactory
from cms.scheduler import Scheduler


def _relay(services: Services, registry: CollectorRegistry) -> Worker:
    return Relay(services.settings, registry)


def _scheduler(services: Services, registry: CollectorRegistry) -> Worker:
    return Scheduler(services.pool, services.settings.scheduler_interval)


def _pruner(services: Services, registry: CollectorRegistry) -> Worker:
    return Pruner(services.pool, services.settings.event_retention)


RELAY: list[WorkerFactory] = [_relay, _scheduler, _pruner]
