"""The search consumer: a full-text index of published articles, and `GET /v1/search`."""

from __future__ import annotations

from pathlib import Path

from consumers.runtime.spec import ConsumerSpec
from consumers.search import api, handler

SPEC = ConsumerSpec(
    name="search",
    schema="search",
    migrations=Path(__file__).parent / "migrations",
    apply=handler.apply,
    store_url=lambda settings: settings.search_database_url,
    port=lambda settings: settings.search_port,
    operations=api.operations,
)
