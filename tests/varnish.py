"""A real Varnish (Debian's varnishd with the xkey vmod) in front of a real `cms serve`, both on
loopback, for the tests and benches that prove purging. `deploy/varnish/default.vcl` is used as
shipped: only the site's own part, `cms-backend.vcl` (the backend's address and the purgers), is
written per run into a scratch directory put first on `vcl_path`, where Varnish finds includes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
VCL_DIR = ROOT / "deploy" / "varnish"
DEFAULT_VCL = VCL_DIR / "default.vcl"
CMS = Path(sys.executable).parent / "cms"
STARTUP_TIMEOUT = 30.0


def installed() -> bool:
    """Whether varnishd and the xkey vmod are here (`make varnish` installs both)."""
    return shutil.which("varnishd") is not None


def backend_vcl(port: int, purgers: tuple[str, ...] = ("127.0.0.1", "::1")) -> str:
    """The site's part of the VCL: `cms serve` on loopback at `port`, and who may purge."""
    allowed = "\n".join(f'    "{address}";' for address in purgers)
    return (
        "backend cms {\n"
        '    .host = "127.0.0.1";\n'
        f'    .port = "{port}";\n'
        "    .connect_timeout = 1s;\n"
        "    .first_byte_timeout = 10s;\n"
        "}\n\n"
        f"acl purgers {{\n{allowed}\n}}\n"
    )


@dataclass
class Process:
    process: asyncio.subprocess.Process
    port: int
    output: list[bytes] = field(default_factory=list)
    workdir: str = ""  # varnishd's -n, for varnishstat and varnishadm

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, lines: int = 30) -> str:
        return b"".join(self.output[-lines:]).decode(errors="replace")


@contextlib.asynccontextmanager
async def varnish(
    backend_port: int, purgers: tuple[str, ...] = ("127.0.0.1", "::1")
) -> AsyncIterator[Process]:
    """varnishd in the foreground on a free loopback port, stopped (by its PID) afterwards."""
    with tempfile.TemporaryDirectory(prefix="cms-varnish-") as scratch:
        _prepare(Path(scratch), backend_vcl(backend_port, purgers))
        port = free_port()
        args = [
            "varnishd", "-F",
            "-a", f"127.0.0.1:{port}",
            "-f", str(DEFAULT_VCL),
            "-n", str(Path(scratch, "work")),
            "-s", "malloc,64m",
            "-p", f"vcl_path={scratch}:/usr/share/varnish/vcl",
        ]  # fmt: skip
        async with _started(args, port) as started:
            started.workdir = str(Path(scratch, "work"))
            yield started


def _prepare(scratch: Path, site_vcl: str) -> None:
    # varnishd reads the VCL as its own unprivileged user once it dropped root.
    scratch.chmod(0o755)
    (scratch / "cms-backend.vcl").write_text(site_vcl, encoding="utf-8")


@contextlib.asynccontextmanager
async def cms_serve(database_url: str, env: Mapping[str, str] | None = None) -> AsyncIterator[Process]:
    """`cms serve` on a free loopback port, as operators run it."""
    port = free_port()
    environment = {
        **os.environ,
        "CMS_DATABASE_URL": database_url,
        "CMS_LOG_FORMAT": "json",
        "CMS_LOG_LEVEL": "warning",
        **(env or {}),
    }
    args = [str(CMS), "serve", "--host", "127.0.0.1", "--port", str(port)]
    async with _started(args, port, env=environment) as started:
        yield started


@contextlib.asynccontextmanager
async def _started(
    args: list[str],
    port: int,
    *,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[Process]:
    process = await asyncio.create_subprocess_exec(
        *args,
        env=dict(env) if env is not None else None,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    started = Process(process, port)
    reader = asyncio.create_task(_collect(process.stdout, started.output))
    try:
        await _wait_until_answering(started)
        yield started
    finally:
        await stop(started)
        await reader


async def stop(started: Process) -> None:
    """SIGTERM to the process this module started (by its handle), SIGKILL if it lingers."""
    process = started.process
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


async def _wait_until_answering(started: Process) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    async with httpx2.AsyncClient(base_url=started.url) as client:
        while time.monotonic() < deadline:
            if started.process.returncode is not None:
                raise AssertionError(f"{started.process} exited early:\n{started.tail()}")
            try:
                await client.get("/healthz")
                return
            except httpx2.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"nothing answered on port {started.port} in time:\n{started.tail()}")


async def _collect(stream: asyncio.StreamReader, into: list[bytes]) -> None:
    while line := await stream.readline():
        into.append(line)
        del into[:-200]
