"""What to do with a message whose handling failed: a pure decision, easy to test."""

from __future__ import annotations

from dataclasses import dataclass

from cms.platform import db
from consumers.runtime.errors import PermanentError, TransientError

# The store itself is unreachable: not the message's fault, so it costs no attempt.
OUTAGES = db.UNREACHABLE


@dataclass(frozen=True)
class Requeue:
    """Put it back on the queue after a pause; the attempt does not count."""

    delay: float


@dataclass(frozen=True)
class Retry:
    """Send it through a delay queue; it comes back after about `delay`. `attempt` is the
    failure count it carries from now on (unchanged for a requested wait)."""

    attempt: int
    delay: float


@dataclass(frozen=True)
class DeadLetter:
    reason: str


Decision = Requeue | Retry | DeadLetter


def decide(exc: BaseException, attempt: int, *, max_attempts: int, delays: tuple[float, ...]) -> Decision:
    """`attempt` is how many times this message already failed before (0 the first time)."""
    if isinstance(exc, PermanentError):
        return DeadLetter(f"permanent failure: {exc}")
    if isinstance(exc, OUTAGES):
        return Requeue(delay=delays[0] if delays else 1.0)
    if isinstance(exc, TransientError) and exc.retry_after is not None:
        # Asked to wait (a rate limit): not the message's fault, so no attempt is spent, however
        # long the wait; a wait longer than the longest delay queue simply comes round again.
        return Retry(attempt=attempt, delay=exc.retry_after)
    failures = attempt + 1
    if failures >= max_attempts:
        return DeadLetter(f"failed {failures} times, last: {type(exc).__name__}: {exc}")
    delay = delays[min(attempt, len(delays) - 1)] if delays else 1.0
    return Retry(attempt=failures, delay=delay)
