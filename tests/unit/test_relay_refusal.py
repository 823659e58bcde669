"""Which rows the relay parks: refused for what they are, never for the broker's state."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import aiormq
import pytest
from pamqp import commands

from cms.events.broker import Refused, refusal, refused
from cms.events.outbox import Pending

LIMIT = 1000


def _row(**changes: object) -> Pending:
    fields: dict[str, object] = {
        "sequence": 7,
        "event_id": uuid.uuid4(),
        "event_type": "cms.article.created",
        "correlation_id": "req-42",
        "created_at": datetime(2026, 11, 30, tzinfo=UTC),
        "body": b"{}",
    }
    return Pending(**(fields | changes))  # type: ignore[arg-type]


def test_an_ordinary_row_is_not_refused() -> None:
    """A row as the API writes it goes to the broker."""
    assert refusal(_row(), LIMIT) is None
    assert refusal(_row(correlation_id=None, body=b"x" * LIMIT), LIMIT) is None


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"correlation_id": "\xe9" * 128}, "correlation_id not encodable"),
        ({"correlation_id": "x" * 256}, "correlation_id not encodable"),
        ({"event_type": "cms." + "a" * 300}, "not encodable"),
        ({"created_at": datetime(1960, 1, 1, tzinfo=UTC)}, "timestamp not encodable"),
        ({"body": b"x" * (LIMIT + 1)}, f"over the broker's max message size of {LIMIT}"),
    ],
)
def test_a_row_the_encoder_or_the_broker_cannot_take_is_refused_with_the_reason(
    changes: dict[str, object], said: str
) -> None:
    """The reason names what is wrong, so an operator knows what to fix before unparking."""
    reason = refusal(_row(**changes), LIMIT)

    assert reason is not None
    assert said in reason


@pytest.mark.parametrize(
    "failure",
    [
        Refused("too long"),
        TypeError("string exceeds maximum length of 255 bytes"),
        ValueError("Routing key too long"),
    ],
)
def test_refusals_and_encoder_errors_are_about_the_row(failure: BaseException) -> None:
    """What the encoder cannot write will never be written: park it."""
    assert refused(failure)


@pytest.mark.parametrize(
    "failure",
    [
        # A nack; an unroutable return raises a subclass of it.
        aiormq.exceptions.DeliveryError(None, commands.Basic.Nack(delivery_tag=1)),
        aiormq.exceptions.ChannelClosed(),
        aiormq.exceptions.ConnectionClosed(320, "CONNECTION_FORCED"),
        ConnectionResetError(),
        TimeoutError("no confirm within 30 s"),
        asyncio.CancelledError(),
    ],
)
def test_nacks_returns_closes_and_timeouts_are_not_about_the_row(failure: BaseException) -> None:
    """The broker's state is no reason to park: such rows wait and are tried again."""
    assert not refused(failure)
