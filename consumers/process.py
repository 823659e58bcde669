"""Turning a consumer spec and its settings into the parts a process runs: the worker and its
endpoints."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from cms.platform.openapi import Operation
from cms.platform.services import Services
from cms.platform.workers import Worker, WorkerFactory
from consumers.runtime.runner import Consumer
from consumers.runtime.spec import ConsumerSpec, Store


def parts(spec: ConsumerSpec[Any], settings: Any) -> tuple[WorkerFactory, list[Operation]]:
    """The endpoints read the store the worker opens, so both share one holder."""
    bound = spec.bind(settings)
    holder = Store()

    def factory(services: Services, registry: CollectorRegistry) -> Worker:
        return Consumer(spec, settings, registry, holder, apply=bound.apply)

    return factory, bound.operations(holder)
