"""Helpers for the people tests: users made in the database, `cms serve` started on a free
loopback port with settings of the test's choosing, sign-in over real HTTP, audit lines read back."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx2

from cms.platform import passwords, users
from tests.helpers import free_port
from tests.processes import CMS, Started, started

PASSWORD = "korrekt Pferd Batterie Heftklammer"


async def make_person(
    db: asyncpg.Connection[asyncpg.Record],
    email: str,
    role: str = "editor",
    *,
    name: str | None = None,
    password: str = PASSWORD,
) -> users.UserInfo:
    """A person who can sign in, made as `cms user create` makes one."""
    hashed = await passwords.Hashing(1).hash(password)
    return await users.create(
        db,
        email=email,
        name=name or email.split("@")[0].title(),
        role=role,  # type: ignore[arg-type]  # tests pass valid roles
        password_hash=hashed,
        by="test",
        address=None,
    )


@dataclass
class Served:
    running: Started

    @property
    def base_url(self) -> str:
        return self.running.url

    @property
    def stderr(self) -> list[bytes]:
        return self.running.output

    def client(self, address: str | None = None) -> httpx2.AsyncClient:
        """A browser of its own (its own cookie jar); `address` is the client address the server
        sees (uvicorn trusts X-Forwarded-For from the loopback proxy, as behind a local proxy)."""
        headers = {"X-Forwarded-For": address} if address else {}
        return httpx2.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)

    def log(self) -> list[dict[str, Any]]:
        found = []
        for line in self.stderr:
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
        return found

    def audit(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.log() if line.get("event") == f"audit.{event}"]


@contextlib.asynccontextmanager
async def serving(database_url: str, **settings: str) -> AsyncIterator[Served]:
    """`cms serve` on a free loopback port; `settings` become CMS_* variables (login_window="PT1M")."""
    port = free_port()
    env = {
        **os.environ,
        "CMS_DATABASE_URL": database_url,
        "CMS_LOG_FORMAT": "json",
        "CMS_LOG_LEVEL": "info",
        "CMS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **{f"CMS_{name.upper()}": value for name, value in settings.items()},
    }
    args = [str(CMS), "serve", "--host", "127.0.0.1", "--port", str(port)]
    async with started(args, port, env=env) as running:
        yield Served(running)


async def sign_in(client: httpx2.AsyncClient, email: str, password: str = PASSWORD) -> httpx2.Response:
    return await client.post("/v1/auth/session", json={"email": email, "password": password})


async def signed_in(client: httpx2.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign the client in; its CSRF token."""
    response = await sign_in(client, email, password)
    assert response.status_code == 201, response.text
    token: str = response.json()["csrf_token"]
    return token
