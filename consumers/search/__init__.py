"""The search consumer: a full-text index of published articles, and `GET /v1/search`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import structlog

from consumers.runtime import store as runtime_store
from consumers.runtime.spec import Bound, ConsumerSpec
from consumers.search import api, handler, rebuild
from consumers.search.compounds import Splitter
from consumers.search.settings import SearchSettings

log = structlog.get_logger(__name__)


def _bind(settings: SearchSettings) -> Bound:
    splitter = Splitter(settings.search_compound_dictionary)
    if not splitter.available:
        log.warning("search.no_compound_dictionary", path=str(settings.search_compound_dictionary))
    splitter.preload()
    indexer = handler.Indexer(splitter)
    return Bound(indexer.apply, lambda holder: api.operations(holder, settings), prepare=indexer.prepare)


def _rebuild(settings: SearchSettings) -> int:
    """`cms-consumer search rebuild`: see rebuild.py. Exit 1 when an event could not be read."""

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    async def run() -> rebuild.Outcome:
        await runtime_store.prepare(settings, SPEC)
        return await rebuild.rebuild(
            settings,
            SPEC.dsn(settings),
            SPEC.routing_keys,
            Splitter(settings.search_compound_dictionary),
            rebuild.Options(
                batch_size=settings.search_rebuild_batch_size,
                readers=settings.search_rebuild_readers,
                writers=settings.search_rebuild_writers,
                index_memory=settings.search_rebuild_index_memory,
            ),
            say,
        )

    outcome = asyncio.run(run())
    say(rebuild.summary(outcome))
    for failure in outcome.failed:
        say(f"not indexed: {failure}")
    return 1 if outcome.failed else 0


SPEC = ConsumerSpec(
    name="search",
    schema="search",
    migrations=Path(__file__).parent / "migrations",
    settings_class=SearchSettings,
    bind=_bind,
    store_url=lambda settings: settings.search_database_url,
    port=lambda settings: settings.search_port,
    commands={"rebuild": _rebuild},
)
