"""The search consumer: a full-text index of published articles, and `GET /v1/search`."""

from __future__ import annotations

from pathlib import Path

from consumers.runtime.spec import Bound, ConsumerSpec
from consumers.search import api, handler
from consumers.search.settings import SearchSettings


def _bind(settings: SearchSettings) -> Bound:
    return Bound(handler.apply, lambda holder: api.operations(holder, settings))


SPEC = ConsumerSpec(
    name="search",
    schema="search",
    migrations=Path(__file__).parent / "migrations",
    settings_class=SearchSettings,
    bind=_bind,
    store_url=lambda settings: settings.search_database_url,
    port=lambda settings: settings.search_port,
)
