"""The consumer runtime's offload: CPU-heavy work runs beside the event loop, at most N at once."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from consumers.runtime.offload import Offload


def _spin(seconds: float) -> str:
    """Pure Python work that holds the interpreter, as scoring a long article does."""
    until = time.perf_counter() + seconds
    count = 0
    while time.perf_counter() < until:
        count += 1
    return threading.current_thread().name


async def _longest_pause_while(job: asyncio.Future[str]) -> float:
    """The longest the loop went without running this ticker while `job` was pending."""
    longest = 0.0
    last = time.perf_counter()
    while not job.done():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    return longest


async def test_the_loop_keeps_running_while_an_offloaded_job_computes() -> None:
    """A 1.5 s computation leaves the loop answering within a fraction of a second throughout."""
    offload = Offload("test", workers=1)
    job = asyncio.ensure_future(offload.run(_spin, 1.5))
    try:
        pause = await _longest_pause_while(job)
        worker = await job
    finally:
        offload.close()

    assert worker.startswith("test-cpu")  # it did not run on the loop's thread
    assert worker != threading.current_thread().name
    assert pause < 0.5, pause


async def test_the_same_job_on_the_loop_holds_it_for_its_whole_length() -> None:
    """The counter-check: without the offload the ticker stalls for the whole computation."""

    async def inline() -> str:
        return _spin(1.0)

    job = asyncio.ensure_future(inline())
    pause = await _longest_pause_while(job)

    assert pause >= 0.9, pause


async def test_no_more_jobs_run_at_once_than_the_offload_has_workers() -> None:
    """Six big articles at once: two compute, the others wait their turn on the loop."""
    offload = Offload("bounded", workers=2)
    running = 0
    most = 0
    lock = threading.Lock()

    def job() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        _spin(0.1)
        with lock:
            running -= 1

    try:
        await asyncio.gather(*(offload.run(job) for _ in range(6)))
    finally:
        offload.close()

    assert most == 2


async def test_an_error_in_the_job_reaches_the_caller() -> None:
    """The handler sees the job's exception, so the runtime's retry decision applies as before."""
    offload = Offload("failing")

    def broken() -> None:
        raise ValueError("no term list")

    try:
        with pytest.raises(ValueError, match="no term list"):
            await offload.run(broken)
        assert await offload.run(len, "still works") == 11  # one failure does not break the worker
    finally:
        offload.close()
