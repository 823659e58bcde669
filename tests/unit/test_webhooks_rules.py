"""The webhooks consumer's pure rules: which addresses a target may have, and what follows an attempt."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest

from consumers.webhooks import safety
from consumers.webhooks.sender import Delivered, Disable, Outcome, RetryAt, backoff, next_step
from consumers.webhooks.settings import WebhooksSettings

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SETTINGS = WebhooksSettings(
    webhooks_backoff_initial=1.0, webhooks_backoff_max=60.0, webhooks_retry_window=3600.0
)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.100.100.200",
        "0.0.0.0",  # noqa: S104 (an address under test, nothing binds to it)
        "224.0.0.1", "::1", "fe80::1", "fd00:ec2::254", "::ffff:10.0.0.1",
        "2002:a00:1::", "64:ff9b::a9fe:a9fe",
    ],
)  # fmt: skip
def test_private_loopback_link_local_metadata_and_disguised_addresses_are_not_allowed(address: str) -> None:
    """Every non-public address, also IPv4 ones inside IPv6 (mapped, 6to4, NAT64), is refused."""
    assert not safety.allowed(ipaddress.ip_address(address), [])


def test_public_addresses_and_allowed_networks_are_allowed() -> None:
    """A public address passes; a private one passes only inside an operator's allowed network."""
    allow = safety.networks(["10.20.0.0/16"])

    assert safety.allowed(ipaddress.ip_address("93.184.216.34"), [])
    assert safety.allowed(ipaddress.ip_address("2606:4700::1"), [])
    assert safety.allowed(ipaddress.ip_address("10.20.3.4"), allow)
    assert not safety.allowed(ipaddress.ip_address("10.21.3.4"), allow)


def _outcome(status: int | None, retry_after: float | None = None) -> Outcome:
    return Outcome(status, 5, None if status == 200 else "failed", None, retry_after)


def test_a_2xx_is_delivered_and_a_410_disables_at_once() -> None:
    """2xx ends the delivery; 410 Gone disables the subscription on the first try."""
    assert (
        next_step(_outcome(204), failures_before=3, failing_since=NOW, now=NOW, settings=SETTINGS)
        == Delivered()
    )
    gone = next_step(_outcome(410), failures_before=0, failing_since=None, now=NOW, settings=SETTINGS)
    assert isinstance(gone, Disable)
    assert "410" in gone.reason


def test_failures_retry_with_bounded_jittered_backoff_until_the_window_ends() -> None:
    """A failure is retried within the backoff cap, starting its window; past the window it disables."""
    first = next_step(_outcome(500), failures_before=0, failing_since=None, now=NOW, settings=SETTINGS)
    late = next_step(
        _outcome(None), failures_before=40, failing_since=NOW - timedelta(hours=1), now=NOW, settings=SETTINGS
    )
    pauses = [backoff(n, SETTINGS) for n in range(1, 30) for _ in range(20)]

    assert isinstance(first, RetryAt)
    assert first.failing_since == NOW
    assert NOW <= first.at <= NOW + timedelta(seconds=60)
    assert isinstance(late, Disable)
    assert all(0 <= pause <= 60 for pause in pauses)
    assert len({round(p, 3) for p in pauses}) > 100  # jittered, not a fixed schedule


def test_retry_after_is_honoured_up_to_its_cap() -> None:
    """The next try waits at least Retry-After, but never longer than the configured cap."""
    capped = SETTINGS.model_copy(update={"webhooks_retry_after_max": 120.0})
    asked = next_step(_outcome(503, 90.0), failures_before=0, failing_since=None, now=NOW, settings=capped)
    greedy = next_step(
        _outcome(429, 10_000.0), failures_before=0, failing_since=None, now=NOW, settings=capped
    )

    assert isinstance(asked, RetryAt)
    assert asked.at >= NOW + timedelta(seconds=90)
    assert isinstance(greedy, RetryAt)
    assert greedy.at <= NOW + timedelta(seconds=120)
