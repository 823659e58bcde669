"""The applications: wiring only.

`create_app` is the content API (plus, in `cms up`, every worker and the consumers' endpoints);
the application itself (pools, workers, operational endpoints) is the platform's.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware

from cms import tokens_api
from cms.admin_ui import pages_api
from cms.articles import (
    admin_api,
    content_api,
    delivery_cache,
    distribution_api,
    editing_api,
    preview_api,
    redirect_api,
)
from cms.events import log_api
from cms.feeds import feeds_api
from cms.platform import application, auth_api, users_api, workers
from cms.platform.openapi import Operation
from cms.platform.response_cache import CachedDelivery
from cms.settings import Settings


def operations() -> list[Operation]:
    # Delivery first: the router tries routes in order, and sites' reads are the hot path.
    return [
        *content_api.OPERATIONS,
        *redirect_api.OPERATIONS,
        *feeds_api.OPERATIONS,
        *preview_api.OPERATIONS,
        *admin_api.OPERATIONS,
        *distribution_api.OPERATIONS,
        *editing_api.OPERATIONS,
        *log_api.OPERATIONS,
        *tokens_api.OPERATIONS,
        *users_api.OPERATIONS,
        *auth_api.OPERATIONS,
        # The editorial UI: page shells and their built assets, at /admin/.
        *pages_api.OPERATIONS,
    ]


def create_app(
    settings: Settings,
    worker_factories: Sequence[workers.WorkerFactory] = (),
    extra_operations: Sequence[Operation] = (),
) -> Starlette:
    """The content API; `cms up` adds every worker and the consumers' endpoints (search, ...)."""
    registry = CollectorRegistry()
    cache_parts = _delivery_cache(settings, registry)
    return application.build(
        settings,
        [*operations(), *extra_operations],
        [*worker_factories, *cache_parts[0]],
        title="Newsroom CMS API",
        name="cms-api",
        registry=registry,
        inner_middleware=cache_parts[1],
    )


def _delivery_cache(
    settings: Settings, registry: CollectorRegistry
) -> tuple[list[workers.WorkerFactory], list[Middleware]]:
    """The in-process delivery cache, when enabled: its subscription worker and its middleware."""
    if not settings.delivery_cache_enabled:
        return [], []
    cache = delivery_cache.build_cache(settings, registry)
    return (
        [delivery_cache.worker_factory(settings, cache)],
        [Middleware(CachedDelivery, cache=cache, cacheable=delivery_cache.cacheable)],
    )
