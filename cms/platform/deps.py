"""Typed access to what the application was wired with (`request.state` is `Any`)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from cms.platform.db import Pool, ReadPool
from cms.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    pool: Pool
    reads: ReadPool  # delivery reads: the replica when one is set, else the primary


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def pool(request: Request) -> Pool:
    return services(request).pool


def reads(request: Request) -> ReadPool:
    return services(request).reads


def settings(request: Request) -> Settings:
    return services(request).settings


def request_id(request: Request) -> str:
    found = request.scope.get("state", {}).get("request_id")
    return str(found) if found else ""
