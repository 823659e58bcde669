"""The applications: wiring only.

`create_app` is the content API (plus, in `cms up`, every worker); `create_ops_app` is the
small HTTP face of a worker process (`cms relay`): health, readiness, metrics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from cms import db, ops, problem, tokens_api, workers
from cms.articles import admin_api, content_api
from cms.deps import Services
from cms.events import log_api
from cms.middleware import HttpMetrics, RequestContext
from cms.openapi import Operation, build_spec, routes
from cms.settings import Settings

VERSION = "0.1.0"


def operations() -> list[Operation]:
    return [
        *admin_api.OPERATIONS,
        *log_api.OPERATIONS,
        *tokens_api.OPERATIONS,
        *content_api.OPERATIONS,
    ]


def create_app(settings: Settings, worker_factories: Sequence[workers.WorkerFactory] = ()) -> Starlette:
    ops_list = operations()

    def spec() -> dict[str, Any]:
        return build_spec(ops_list, title="Newsroom CMS API", version=VERSION)

    return _application(settings, routes(ops_list), worker_factories, spec, name="cms-api")


def create_ops_app(
    settings: Settings, worker_factories: Sequence[workers.WorkerFactory], name: str
) -> Starlette:
    def spec() -> dict[str, Any]:
        return build_spec([], title=f"Newsroom CMS {name}", version=VERSION)

    return _application(settings, [], worker_factories, spec, name=name)


def _application(
    settings: Settings,
    api_routes: Sequence[BaseRoute],
    worker_factories: Sequence[workers.WorkerFactory],
    spec: ops.SpecFactory,
    *,
    name: str,
) -> Starlette:
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with db.create_pool(settings, application_name=name) as pool:
            services = Services(settings=settings, pool=pool)
            started = [factory(services, registry) for factory in worker_factories]
            app.state.services = services
            app.state.readiness = {
                "database": ops.database_check(pool),
                **{worker.name: ops.worker_check(worker) for worker in started},
            }
            async with workers.running(started):
                yield

    return Starlette(
        routes=[*api_routes, *ops.operational_routes(registry, spec)],
        middleware=[Middleware(RequestContext, metrics=HttpMetrics(registry))],
        exception_handlers=problem.HANDLERS,
        lifespan=lifespan,
    )
