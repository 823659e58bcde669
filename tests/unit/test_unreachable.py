"""One classification of "the database is unreachable", shared by every part that reacts to it."""

from __future__ import annotations

import asyncpg

from cms.events import relay
from cms.platform import db, problem
from consumers.runtime import decide


def test_every_part_uses_the_one_list_of_unreachable_errors() -> None:
    """The API's 503, the consumers' free requeue and the relay's reconnect all cover db.UNREACHABLE."""
    handlers = problem.HANDLERS.items()
    api_503 = {error for error, handler in handlers if handler is problem.database_unavailable}

    assert decide.OUTAGES is db.UNREACHABLE
    assert api_503 == set(db.UNREACHABLE)
    assert set(db.UNREACHABLE) <= set(relay.DATABASE_ERRORS)


def test_a_wrong_query_is_not_an_outage() -> None:
    """A query the server refuses for what it is must not be retried as if the database were down."""
    for wrong in (asyncpg.UndefinedColumnError, asyncpg.UniqueViolationError, asyncpg.DataError):
        assert not issubclass(wrong, db.UNREACHABLE)


def test_an_administrator_shutdown_and_a_timeout_are_outages() -> None:
    """A server going down for maintenance, or one that does not answer in time, is an outage."""
    assert issubclass(asyncpg.AdminShutdownError, db.UNREACHABLE)
    assert issubclass(TimeoutError, db.UNREACHABLE)
    assert issubclass(ConnectionRefusedError, db.UNREACHABLE)
