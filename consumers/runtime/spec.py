"""What a consumer is: a name, the events it wants, its settings and store, and, bound to its
settings, how it applies an event and which endpoints it serves. A spec reads nothing at import:
the process that runs it loads the settings (`load_settings`) and binds the spec to them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from cms.events.contract import ArticleEvent
from cms.platform.db import Connection, Pool, ReadPool
from cms.platform.openapi import Operation
from cms.platform.settings import PlatformSettings, load
from cms.platform.workers import WorkerFactory
from consumers.runtime.settings import ConsumerSettings

Apply = Callable[[Connection, ArticleEvent], Awaitable[None]]
# Work on an event that needs no database, done before its transaction opens (see Bound).
Prepare = Callable[[ArticleEvent], Awaitable[None]]
S = TypeVar("S", bound=ConsumerSettings)


class Store:
    """The consumer's own database, open while the consumer runs (None before and after)."""

    def __init__(self) -> None:
        self.pool: Pool | None = None
        # For the consumer's read endpoints: a replica of the store when there is one.
        self.reads: ReadPool | None = None


@dataclass(frozen=True)
class Bound:
    """A consumer bound to its settings: what it does with an event, its endpoints, and any
    workers of its own that run beside it in the same process."""

    apply: Apply
    operations: Callable[[Store], list[Operation]] = field(default=lambda store: [])
    # Run before the event's transaction opens (its result kept by the consumer for `apply`):
    # CPU work done inside the transaction held a connection, and the rows it had locked,
    # while it waited for the CPU (the search consumer's compound splitting).
    prepare: Prepare | None = None
    # Long-running parts of its own beside the run loop (e.g. webhooks' delivery worker).
    workers: Sequence[WorkerFactory] = ()


@dataclass(frozen=True)
class ConsumerSpec(Generic[S]):
    name: str
    schema: str
    migrations: Path
    settings_class: type[S]
    bind: Callable[[S], Bound]
    store_url: Callable[[S], str | None]
    port: Callable[[S], int]
    routing_keys: tuple[str, ...] = ("article.#",)
    # False: `apply` sees every delivery, redeliveries and stale events too, and keeps its own
    # versions (the purge consumer: purging again is harmless, and a redelivery must purge).
    claim_versions: bool = True
    # Commands of its own besides running and tending its DLQ (`cms-consumer NAME COMMAND`):
    # each takes its settings and returns the exit status.
    commands: Mapping[str, Callable[[S], int]] = field(default_factory=dict)

    def load_settings(self) -> S:
        """Its settings from the environment (`cms-consumer NAME`)."""
        return load(self.settings_class)

    def queue(self, settings: PlatformSettings) -> str:
        return f"{settings.amqp_prefix}.{self.name}"

    def dsn(self, settings: S) -> str:
        return self.store_url(settings) or settings.database_url

    def replica_dsn(self, settings: S) -> str | None:
        """A store in the main database is on the main database's replica too."""
        return settings.database_replica_url if self.store_url(settings) is None else None
