"""Long-running parts of a process (relay, scheduler, consumers) started and stopped with it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

import structlog
from prometheus_client import CollectorRegistry

from cms.deps import Services

log = structlog.get_logger(__name__)


class Worker(Protocol):
    name: str

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then finish what is in hand and return."""

    def ready(self) -> bool:
        """Whether it is doing its job now (for /readyz)."""


WorkerFactory = Callable[[Services, CollectorRegistry], Worker]


@asynccontextmanager
async def running(workers: Sequence[Worker], grace: float = 30.0) -> AsyncIterator[None]:
    """Run the workers for the duration of the block; on exit ask them to stop and wait."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_guarded(worker, stop), name=worker.name) for worker in workers]
    try:
        yield
    finally:
        stop.set()
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                log.warning("worker.stop_timeout", worker=task.get_name())
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)


async def _guarded(worker: Worker, stop: asyncio.Event) -> None:
    try:
        await worker.run(stop)
    except Exception:
        log.exception("worker.crashed", worker=worker.name)
        raise
