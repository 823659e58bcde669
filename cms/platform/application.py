"""A process's HTTP application: its endpoints, the operational ones (health, readiness, metrics,
OpenAPI, docs), its pools and its workers, started and stopped with it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware

from cms.platform import collector, db, ops, passwords, problem, redirects, workers
from cms.platform.middleware import HttpMetrics, RequestContext
from cms.platform.openapi import Operation, build_spec, routes
from cms.platform.services import Services
from cms.platform.settings import PlatformSettings

VERSION = "0.1.0"


def create_ops_app(
    settings: PlatformSettings,
    worker_factories: Sequence[workers.WorkerFactory],
    name: str,
    extra_operations: Sequence[Operation] = (),
) -> Starlette:
    """A worker process's own port: health, readiness, metrics, and its endpoints if it has any."""
    return build(settings, extra_operations, worker_factories, title=f"Newsroom CMS {name}", name=name)


def build(
    settings: PlatformSettings,
    api_operations: Sequence[Operation],
    worker_factories: Sequence[workers.WorkerFactory],
    *,
    title: str,
    name: str,
    registry: CollectorRegistry | None = None,
    inner_middleware: Sequence[Middleware] = (),
) -> Starlette:
    """`inner_middleware` runs inside the request context (request id, access log, metrics),
    in front of the routes; `registry` is the one /metrics serves, when parts built before
    the application count in it."""
    registry = CollectorRegistry() if registry is None else registry
    # The operational endpoints are routes too, so the document lists them; it includes itself.
    everything = list(api_operations)

    def spec() -> dict[str, Any]:
        return build_spec(everything, title=title, version=VERSION)

    everything += ops.operational_operations(registry, spec)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            db.create_pool(settings, application_name=name) as pool,
            _replica(settings, name) as replica,
        ):
            services = Services(
                settings=settings,
                pool=pool,
                reads=db.ReadPool(pool, replica),
                hashing=passwords.Hashing(settings.password_hash_concurrency),
            )
            started = [factory(services, registry) for factory in worker_factories]
            app.state.services = services
            app.state.readiness = {
                "database": ops.database_check(pool),
                **{worker.name: ops.worker_check(worker) for worker in started},
            }
            async with workers.running(started):
                if settings.gc_freeze_after_startup:
                    collector.freeze_startup()
                yield

    app = Starlette(
        routes=routes(everything),
        middleware=[Middleware(RequestContext, metrics=HttpMetrics(registry)), *inner_middleware],
        exception_handlers=problem.HANDLERS,
        lifespan=lifespan,
    )
    redirects.relative_slash_redirects(app.router)
    return app


@asynccontextmanager
async def _replica(settings: PlatformSettings, name: str) -> AsyncIterator[db.Pool | None]:
    if settings.database_replica_url is None:
        yield None
        return
    async with db.create_pool(
        settings, dsn=settings.database_replica_url, application_name=f"{name}-replica", lazy=True
    ) as replica:
        yield replica
