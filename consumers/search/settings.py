"""The search consumer's settings: its store, its port, and public search's bounds."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from consumers.runtime.settings import ConsumerSettings


class SearchSettings(ConsumerSettings):
    # Its own store (a schema in the main database unless moved) and its port.
    search_database_url: str | None = Field(default=None, repr=False)
    search_port: int = 8011
    # Public search: one request may hold the database this long (then 503 with Retry-After),
    # and ranks at most this many of the newest matching articles (ranking reads each one's
    # tsvector: 1,000 of them were most of a common word's time, bench/README.md).
    search_statement_timeout: timedelta = Field(default=timedelta(seconds=2), gt=timedelta(0))
    search_max_candidates: int = Field(default=200, ge=100, le=100_000)
    # Where candidates come from: the RUM index when the store has it (migration 0005 makes it
    # where the extension is available) unless this is false; else the GIN index, first within
    # each of these recent windows in turn, so that a common word reads the rows of its recent
    # matches rather than of the whole archive.
    search_rum: bool = True
    search_recent_windows: tuple[timedelta, ...] = (timedelta(days=30), timedelta(days=365))
