"""Applying an event: journal it and queue one delivery per subscription that wants it, all in
the runtime's transaction (the one that claims the article's version).

Nothing is sent here. Sending is the delivery worker's job (delivery.py), reading the queued
deliveries after they committed. So a broker redelivery, a crash or a slow receiver never
touches the guarantee: if the transaction commits, every delivery it queued exists and will be
sent until the receiver answers 2xx (or an admin gives up on it); if it rolls back, the message
comes back and queues them then. The delivery id is a hash of (subscription, event), so an event
applied twice still has one delivery, and its `webhook-id` is the same on every attempt.
"""

from __future__ import annotations

from cms.events.contract import ArticleEvent
from cms.platform.db import Connection
from consumers.webhooks import safety, store
from consumers.webhooks.settings import WebhooksSettings


class Webhooks:
    """The consumer's wiring: its settings and how it resolves names (the system's DNS unless a
    test stands in for it)."""

    def __init__(self, settings: WebhooksSettings, resolver: safety.Resolver | None = None) -> None:
        self.settings = settings
        self.resolver = resolver or safety.system_resolver
        self.allow = safety.networks(settings.webhooks_allowed_networks)

    @property
    def dsn(self) -> str:
        return self.settings.webhooks_database_url or self.settings.database_url

    async def check_target(self, url: str) -> None:
        await safety.check_url(url, self.resolver, self.allow, self.settings.webhooks_resolve_timeout)

    async def apply(self, conn: Connection, event: ArticleEvent) -> None:
        await store.journal(conn, event)
        for subscription_id in await store.enqueue(conn, event.id):
            await store.notify(conn, subscription_id)
