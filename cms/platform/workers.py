"""Long-running parts of a process (relay, scheduler, consumers) started and stopped with it."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

import structlog
from prometheus_client import CollectorRegistry

from cms.platform.services import Services

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


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep, waking early when `stop` is set; True if stopped."""
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


async def wait_any(*events: asyncio.Event, seconds: float | None = None) -> None:
    """Until one of `events` is set, or `seconds` have passed."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def supervise(
    stop: asyncio.Event,
    session: Callable[[asyncio.Event], Awaitable[None]],
    *,
    name: str,
    expected: tuple[type[BaseException], ...],
    ended: Callable[[], None],
) -> None:
    """Run `session` until `stop`, starting it again after a backoff that grows with each
    failure in a row. `expected` failures (a database or broker not reachable yet) are warnings;
    anything else is logged with its traceback. `ended` runs after every session, however it ended."""
    attempt = 0
    while not stop.is_set():
        try:
            await session(stop)
            attempt = 0
        except expected as exc:
            attempt += 1
            log.warning(f"{name}_reconnecting", error=repr(exc), attempt=attempt)
        except Exception:
            attempt += 1
            log.exception(f"{name}_failed", attempt=attempt)
        finally:
            ended()
        await sleep_or_stop(stop, backoff(attempt))


def backoff(attempt: int) -> float:
    """Before reconnect attempt N: exponential with full jitter, capped at 30 s; 0 for attempt 0."""
    if attempt == 0:
        return 0.0
    return random.uniform(0, min(30.0, 0.2 * 2**attempt))  # noqa: S311 (jitter, not crypto)
