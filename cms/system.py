"""The composition root: the one module that knows every part. `cms up` runs the whole system
in one process (API, relay, scheduler, pruner and every consumer on one port), with every part's
settings in one object; each part takes it as its own kind of settings."""

from __future__ import annotations

from starlette.applications import Starlette

from cms import processes
from cms.app import create_app
from cms.importers.wordpress.settings import WordPressImportSettings
from cms.settings import Settings
from consumers import dlq_api, process
from consumers.ads.settings import AdsSettings
from consumers.purge.settings import PurgeSettings
from consumers.registry import CONSUMERS
from consumers.search.settings import SearchSettings
from consumers.social.settings import SocialSettings
from consumers.webhooks.settings import WebhooksSettings


class SystemSettings(
    Settings,
    SearchSettings,
    SocialSettings,
    AdsSettings,
    WebhooksSettings,
    PurgeSettings,
    WordPressImportSettings,
):
    """The content app's settings and every consumer's, read from one environment."""


def everything(settings: SystemSettings) -> Starlette:
    """The single-machine default: API, relay, scheduler, pruner and every consumer on one port."""
    consumer_parts = [process.parts(spec, settings) for spec in CONSUMERS.values()]
    return create_app(
        settings,
        [*processes.relay(settings), *(factory for factory, _ in consumer_parts)],
        [
            *(operation for _, operations in consumer_parts for operation in operations),
            # Operators tend every consumer's dead letters from here (and from the UI).
            *dlq_api.operations(settings, CONSUMERS),
        ],
    )
