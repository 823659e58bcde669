"""CPU-heavy pure work off the event loop, with a bound.

A consumer's loop also answers `/healthz`, `/readyz` and its API, and under `cms up` the whole
application's: a handler that computes for seconds (brand safety over a 2 MB article) must not
hold it. `Offload.run` hands a pure function to a worker thread of the consumer's own and
awaits it. At most `workers` jobs run at once and the rest wait on the loop, not in the
executor's queue, so a job whose caller is cancelled (SIGTERM, a lost connection) never starts.

Threads, not processes: the work only has to leave the loop. Python switches threads every few
milliseconds (`sys.getswitchinterval`), so the loop keeps answering while a job computes, and
nothing has to be pickled (the term lists, the stemmer caches stay shared and warm). The bound
is what keeps a burst of big articles from taking every core from the rest of the process.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Offload:
    def __init__(self, name: str, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("an offload needs at least one worker")
        self.name = name
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None  # threads start on first use, not at import
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def run(self, work: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """`work(*args, **kwargs)` in a worker thread; the caller's loop stays free meanwhile."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix=f"{self.name}-cpu")
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:  # a semaphore belongs to one loop
            self._slots = (loop, asyncio.Semaphore(self.workers))
        async with self._slots[1]:
            return await loop.run_in_executor(self._executor, functools.partial(work, *args, **kwargs))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
