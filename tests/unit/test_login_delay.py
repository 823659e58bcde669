"""The sign-in throttle's wait: doubling past the free failures, up to a cap."""

from __future__ import annotations

from datetime import timedelta

from cms.platform import throttle


def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_the_cap() -> None:
    """1 s, 2 s, 4 s, 8 s, then the cap; a huge count neither overflows nor passes the cap."""
    waits = [throttle.delay(over, timedelta(seconds=10)) for over in (1, 2, 3, 4, 5, 6, 10_000)]

    assert [w.total_seconds() for w in waits] == [1, 2, 4, 8, 10, 10, 10]
