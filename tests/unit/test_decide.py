"""What the runtime does with a failed message: a pure decision."""

from __future__ import annotations

import asyncpg

from consumers.runtime.decide import DeadLetter, Requeue, Retry, decide
from consumers.runtime.errors import PermanentError, TransientError

DELAYS = (1.0, 5.0, 30.0)


def _decide(exc: BaseException, attempt: int) -> object:
    return decide(exc, attempt, max_attempts=4, delays=DELAYS)


def test_a_failing_handler_is_retried_with_growing_delays() -> None:
    """Failures are retried after 1, 5 and 30 seconds, counting attempts."""
    assert [_decide(RuntimeError("boom"), n) for n in range(3)] == [
        Retry(attempt=1, delay=1.0),
        Retry(attempt=2, delay=5.0),
        Retry(attempt=3, delay=30.0),
    ]


def test_the_last_allowed_failure_goes_to_the_dlq_with_the_reason() -> None:
    """Once the attempts are spent the message is dead-lettered with the count and the error."""
    decision = _decide(RuntimeError("boom"), 3)

    assert isinstance(decision, DeadLetter)
    assert "failed 4 times" in decision.reason
    assert "boom" in decision.reason


def test_a_permanent_error_goes_to_the_dlq_at_once() -> None:
    """An error no retry can fix is dead-lettered on the first attempt."""
    assert isinstance(_decide(PermanentError("422 from the network"), 0), DeadLetter)


def test_an_unreachable_store_requeues_without_spending_an_attempt() -> None:
    """While the store is unreachable a message is requeued without using up an attempt."""
    for outage in (ConnectionRefusedError(), asyncpg.CannotConnectNowError("starting up"), TimeoutError()):
        assert _decide(outage, 3) == Requeue(delay=1.0)


def test_a_requested_wait_keeps_the_attempt_count_however_long() -> None:
    """A Retry-After is honoured in full and does not count as a failed attempt."""
    assert _decide(TransientError("429", retry_after=3600), 2) == Retry(attempt=2, delay=3600)


def test_a_transient_error_without_a_wait_counts_as_a_failure() -> None:
    """A transient error with no requested wait is an ordinary failed attempt."""
    assert _decide(TransientError("503"), 0) == Retry(attempt=1, delay=1.0)
