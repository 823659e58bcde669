"""The search consumer: a full-text index of published articles, and `GET /v1/search`."""

from __future__ import annotations

from pathlib import Path

import structlog

from consumers.runtime.spec import Bound, ConsumerSpec
from consumers.search import api, handler
from consumers.search.compounds import Splitter
from consumers.search.settings import SearchSettings

log = structlog.get_logger(__name__)


def _bind(settings: SearchSettings) -> Bound:
    splitter = Splitter(settings.search_compound_dictionary)
    if not splitter.available:
        log.warning("search.no_compound_dictionary", path=str(settings.search_compound_dictionary))
    indexer = handler.Indexer(splitter)
    return Bound(indexer.apply, lambda holder: api.operations(holder, settings))


SPEC = ConsumerSpec(
    name="search",
    schema="search",
    migrations=Path(__file__).parent / "migrations",
    settings_class=SearchSettings,
    bind=_bind,
    store_url=lambda settings: settings.search_database_url,
    port=lambda settings: settings.search_port,
)
