"""Python's cyclic garbage collector, kept off a request's time.

Measured with `python -m bench.gc_cycles`: a delivery read leaves no reference cycles (so no
garbage only the collector frees), but a full collection still walks every tracked object,
and start-up leaves 66 000-91 000 of them (modules, routes, Pydantic models, pools) that live
as long as the process: a full collection took 18-40 ms on the benchmark machine (0.4-0.7 s
when it was saturated), a pause every request in flight waits through. Frozen, they are
skipped (the same collection took < 0.1 ms).
The collector stays on: young objects are collected as before.
"""

from __future__ import annotations

import gc

import structlog

log = structlog.get_logger(__name__)


def freeze_startup() -> None:
    """Collect what start-up left as garbage, then move every surviving object to the permanent
    generation, which collections skip. Objects allocated later are collected as usual.

    Once per process: a frozen object is never collected, so a process that builds application
    after application (a test run) freezes only what the first one left."""
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()
    log.info("gc.frozen", objects=gc.get_freeze_count())
