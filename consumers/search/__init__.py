"""The search consumer: a full-text index of published articles, and `GET /v1/search`."""

from __future__ import annotations

from pathlib import Path

from cms.settings import Settings
from consumers.runtime.spec import ConsumerSpec
from consumers.search import api, handler


def build(settings: Settings | None = None) -> ConsumerSpec:
    """The consumer; its search endpoint follows `settings` (its timeout, its candidates), or
    without them the `CMS_*` environment, unless a process binds it to its own first
    (`ConsumerSpec.for_settings`)."""
    return ConsumerSpec(
        name="search",
        schema="search",
        migrations=Path(__file__).parent / "migrations",
        apply=handler.apply,
        store_url=lambda settings: settings.search_database_url,
        port=lambda settings: settings.search_port,
        operations=lambda holder: api.operations(holder, settings or Settings()),
        bind=build if settings is None else None,
    )


SPEC = build()
