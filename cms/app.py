"""The content API application: wiring only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.middleware import Middleware

from cms import db, ops, problem, tokens_api
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


def create_app(settings: Settings) -> Starlette:
    registry = CollectorRegistry()
    ops_list = operations()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with db.create_pool(settings, application_name="cms-api") as pool:
            app.state.services = Services(settings=settings, pool=pool)
            app.state.readiness = {"database": ops.database_check(pool)}
            yield

    def spec() -> dict[str, Any]:
        return build_spec(ops_list, title="Newsroom CMS API", version=VERSION)

    return Starlette(
        routes=[*routes(ops_list), *ops.operational_routes(registry, spec)],
        middleware=[Middleware(RequestContext, metrics=HttpMetrics(registry))],
        exception_handlers=problem.HANDLERS,
        lifespan=lifespan,
    )
