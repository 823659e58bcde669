"""Operational endpoints: liveness, readiness, metrics, the OpenAPI document and its page."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.platform.db import Pool
from cms.platform.docs_page import docs_operations
from cms.platform.openapi import Operation
from cms.platform.problem import problem

Check = Callable[[], Awaitable[bool]]


class _Readiness(Protocol):
    def ready(self) -> bool: ...


SpecFactory = Callable[[], dict[str, Any]]


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    checks: dict[str, bool] = Field(description="each dependency, and whether it answered")


def worker_check(worker: _Readiness) -> Check:
    async def check() -> bool:
        return worker.ready()

    return check


def database_check(pool: Pool, timeout: float = 2.0) -> Check:
    async def check() -> bool:
        try:
            async with asyncio.timeout(timeout):
                async with pool.acquire() as conn:
                    await conn.fetchval("SELECT 1")
        except Exception:
            return False
        return True

    return check


def operational_operations(registry: CollectorRegistry, spec: SpecFactory) -> list[Operation]:
    """Health, readiness, metrics and the document itself: documented like every other route."""

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def readyz(request: Request) -> Response:
        checks: dict[str, Check] = request.app.state.readiness
        results = {name: await check() for name, check in checks.items()}
        if all(results.values()):
            return Response(
                orjson.dumps({"status": "ready", "checks": results}), media_type="application/json"
            )
        return problem(
            503,
            "Not ready",
            detail="a dependency is unreachable",
            type_slug="not-ready",
            headers={"Retry-After": "5"},
            checks=results,
        )

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    document: dict[str, bytes] = {}

    async def openapi(request: Request) -> Response:
        if "spec" not in document:
            document["spec"] = orjson.dumps(spec())
        return Response(document["spec"], media_type="application/json")

    tag = "operations"
    return [
        Operation("GET", "/healthz", healthz, "Alive: the process answers", tag, response=Health),
        Operation("GET", "/readyz", readyz, "Ready: every dependency answers", tag, response=Readiness),
        Operation("GET", "/metrics", metrics, "Prometheus metrics", tag, media_type=CONTENT_TYPE_LATEST),
        Operation("GET", "/openapi.json", openapi, "This document", tag),
        *docs_operations(),
    ]
