"""The search consumer's settings: its store, its port, and public search's bounds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

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

    # Matching as readers type. German compounds are split with this Hunspell dictionary
    # (Debian: hunspell-de-de); without it (None, or no such file) they are not, and the
    # consumer says so at start.
    search_compound_dictionary: Path | None = Path("/usr/share/hunspell/de_DE.dic")
    # Indexed spellings of a name OR-ed with each query word (Schoigu for Shoigu), at most.
    search_variants_per_word: int = Field(default=2, ge=0, le=5)
    # "Did you mean": how similar (pg_trgm similarity, 0..1) a known word must be to offer it.
    search_did_you_mean_similarity: float = Field(default=0.4, ge=0.1, le=1.0)
    # `cms-consumer search rebuild`: events per batch, batches read at once (each in a process
    # of its own: reading events is most of a rebuild's CPU), batches written at once (each on
    # a connection of its own), and PostgreSQL's maintenance_work_mem while it builds the indexes
    # (the GIN index of 100,000 articles builds in a fraction of the time with 512MB than with
    # the 64MB default).
    search_rebuild_batch_size: int = Field(default=500, ge=1, le=10_000)
    search_rebuild_readers: int = Field(default=2, ge=1, le=16)
    search_rebuild_writers: int = Field(default=2, ge=1, le=16)
    search_rebuild_index_memory: str = Field(default="512MB", pattern=r"^[0-9]+\s*(kB|MB|GB)$")
    # Shared caches: the purge consumer purges search answers by their list and article keys,
    # but it may purge before this consumer has indexed the change, so a cache keeps a search
    # answer only briefly: s-maxage bounds how stale a cached search can be.
    search_max_age: int = Field(default=30, ge=0, description="Cache-Control max-age of /v1/search")
    search_s_maxage: int = Field(default=30, ge=0, description="Cache-Control s-maxage of /v1/search")
    search_stale_if_error: int = Field(
        default=3600, ge=0, description="Cache-Control stale-if-error of /v1/search, seconds"
    )
