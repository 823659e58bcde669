"""Typed access to what the application was wired with (`request.state` is `Any`)."""

from __future__ import annotations

from starlette.requests import Request

from cms.platform.db import Pool, ReadPool
from cms.platform.services import Services
from cms.platform.settings import PlatformSettings


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def pool(request: Request) -> Pool:
    return services(request).pool


def reads(request: Request) -> ReadPool:
    return services(request).reads


def settings(request: Request) -> PlatformSettings:
    return services(request).settings


def request_id(request: Request) -> str:
    found = request.scope.get("state", {}).get("request_id")
    return str(found) if found else ""
