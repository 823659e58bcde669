"""Helpers for the people tests: users made in the database, `cms serve` started on a free
loopback port with settings of the test's choosing, sign-in over real HTTP, audit lines read back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx2

from cms.platform import passwords, users
from tests.helpers import free_port

CMS = Path(sys.executable).parent / "cms"
PASSWORD = "korrekt Pferd Batterie Heftklammer"
STARTUP_TIMEOUT = 20.0


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
    process: asyncio.subprocess.Process
    port: int
    stderr: list[bytes] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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


async def _collect(stream: asyncio.StreamReader, into: list[bytes]) -> None:
    while line := await stream.readline():
        into.append(line)


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
    process = await asyncio.create_subprocess_exec(
        str(CMS),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    served = Served(process, port)
    reader = asyncio.create_task(_collect(process.stderr, served.stderr))
    try:
        await _wait_until_serving(served)
        yield served
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)  # only the process this helper started, by its handle
            try:
                await asyncio.wait_for(process.wait(), timeout=20)
            except TimeoutError:
                process.kill()
                await process.wait()
        await reader


async def _wait_until_serving(served: Served) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    async with httpx2.AsyncClient(base_url=served.base_url) as client:
        while time.monotonic() < deadline:
            if served.process.returncode is not None:
                raise AssertionError(f"cms serve exited early: {b''.join(served.stderr).decode()}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("cms serve did not answer /healthz in time")


async def sign_in(client: httpx2.AsyncClient, email: str, password: str = PASSWORD) -> httpx2.Response:
    return await client.post("/v1/auth/session", json={"email": email, "password": password})


async def signed_in(client: httpx2.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign the client in; its CSRF token."""
    response = await sign_in(client, email, password)
    assert response.status_code == 201, response.text
    token: str = response.json()["csrf_token"]
    return token
