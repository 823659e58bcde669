"""Turning a consumer spec into the parts a process runs: the worker and its endpoints."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from cms.platform.deps import Services
from cms.platform.openapi import Operation
from cms.platform.workers import Worker, WorkerFactory
from cms.settings import Settings
from consumers.runtime.runner import Consumer
from consumers.runtime.spec import ConsumerSpec, Store


def parts(spec: ConsumerSpec, settings: Settings | None = None) -> tuple[WorkerFactory, list[Operation]]:
    """The endpoints read the store the worker opens, so both share one holder."""
    if settings is not None:
        spec = spec.for_settings(settings)
    holder = Store()

    def factory(services: Services, registry: CollectorRegistry) -> Worker:
        return Consumer(spec, services.settings, registry, holder)

    return factory, spec.operations(holder)
