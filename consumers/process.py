"""Turning a consumer spec and its settings into the parts a process runs: the worker and its
endpoints."""

from __future__ import annotations

import asyncio
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
        consumer = Consumer(spec, settings, registry, holder, apply=bound.apply, prepare=bound.prepare)
        if not bound.workers:
            return consumer
        return Together(consumer, [make(services, registry) for make in bound.workers])

    return factory, bound.operations(holder)


class Together:
    """A consumer and its own workers as one worker: run together, ready when all are."""

    def __init__(self, consumer: Consumer, others: list[Worker]) -> None:
        self.name = consumer.name
        self.parts: list[Worker] = [consumer, *others]

    def ready(self) -> bool:
        return all(part.ready() for part in self.parts)

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(part.run(stop) for part in self.parts))
