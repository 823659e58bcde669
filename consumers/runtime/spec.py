"""What a consumer is: a name, the events it wants, its store, and how it applies an event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from cms.events.contract import ArticleEvent
from cms.platform.db import Connection, Pool, ReadPool
from cms.platform.openapi import Operation
from cms.settings import Settings

Apply = Callable[[Connection, ArticleEvent], Awaitable[None]]


class Store:
    """The consumer's own database, open while the consumer runs (None before and after)."""

    def __init__(self) -> None:
        self.pool: Pool | None = None
        # For the consumer's read endpoints: a replica of the store when there is one.
        self.reads: ReadPool | None = None


@dataclass(frozen=True)
class ConsumerSpec:
    name: str
    schema: str
    migrations: Path
    apply: Apply
    store_url: Callable[[Settings], str | None]
    port: Callable[[Settings], int]
    routing_keys: tuple[str, ...] = ("article.#",)
    operations: Callable[[Store], list[Operation]] = field(default=lambda store: [])
    # For a consumer whose behaviour depends on settings (its channels, say): the spec again,
    # built with the process's settings rather than whatever the environment says.
    bind: Callable[[Settings], ConsumerSpec] | None = None

    def for_settings(self, settings: Settings) -> ConsumerSpec:
        return self.bind(settings) if self.bind is not None else self

    def queue(self, settings: Settings) -> str:
        return f"{settings.amqp_prefix}.{self.name}"

    def dsn(self, settings: Settings) -> str:
        return self.store_url(settings) or settings.database_url

    def replica_dsn(self, settings: Settings) -> str | None:
        """A store in the main database is on the main database's replica too."""
        return settings.database_replica_url if self.store_url(settings) is None else None
