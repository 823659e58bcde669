"""The webhooks consumer: every event a subscription wants, signed per Standard Webhooks, POSTed
to its URL in each article's order, retried until it is taken; and `/v1/webhooks/...` for
admins. handler.py queues deliveries in the consumer's transaction; delivery.py sends them."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from cms.platform.services import Services
from cms.platform.workers import Worker
from consumers.runtime.spec import Bound, ConsumerSpec
from consumers.webhooks import api
from consumers.webhooks.delivery import DeliveryWorker
from consumers.webhooks.handler import Webhooks
from consumers.webhooks.settings import WebhooksSettings


def bind(webhooks: Webhooks) -> Bound:
    def delivery(services: Services, registry: CollectorRegistry) -> Worker:
        return DeliveryWorker(webhooks, registry)

    return Bound(webhooks.apply, lambda holder: api.operations(webhooks, holder), workers=(delivery,))


SPEC = ConsumerSpec(
    name="webhooks",
    schema="webhooks",
    migrations=Path(__file__).parent / "migrations",
    settings_class=WebhooksSettings,
    bind=lambda settings: bind(Webhooks(settings)),
    store_url=lambda settings: settings.webhooks_database_url,
    port=lambda settings: settings.webhooks_port,
)
