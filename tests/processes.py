"""Programs started by tests and benches as real processes on a free loopback port (`cms serve`,
`cms up`, varnishd): their output collected, handed over once they answer, and stopped by their
own handle (SIGTERM, then SIGKILL if they linger), never by name."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

CMS = Path(sys.executable).parent / "cms"


@dataclass
class Started:
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
async def started(
    args: Sequence[str],
    port: int,
    *,
    env: Mapping[str, str] | None = None,
    ready: str = "/healthz",
    any_answer: bool = False,
    with_stdout: bool = False,
    keep_lines: int | None = None,
    startup_timeout: float = 20.0,
    stop_timeout: float = 20.0,
    cwd: Path | None = None,
) -> AsyncIterator[Started]:
    """The program running, once `ready` answers 200 (or anything at all, with `any_answer`: a
    cache answers 503 while its backend is down). Its stderr (and stdout, `with_stdout`) is
    collected line by line, the last `keep_lines` of it when given."""
    process = await asyncio.create_subprocess_exec(
        *args,
        env=dict(env) if env is not None else None,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if with_stdout else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.STDOUT if with_stdout else asyncio.subprocess.PIPE,
        start_new_session=True,
        cwd=cwd,
    )
    stream = process.stdout if with_stdout else process.stderr
    assert stream is not None
    running = Started(process, port)
    reader = asyncio.create_task(_collect(stream, running.output, keep_lines))
    try:
        await _wait_until_ready(running, ready, any_answer, startup_timeout)
        yield running
    finally:
        await stop(running, stop_timeout)
        await reader


async def stop(running: Started, grace: float = 20.0) -> None:
    """SIGTERM to the process this module started (by its handle), SIGKILL if it lingers."""
    process = running.process
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


async def _wait_until_ready(running: Started, path: str, any_answer: bool, within: float) -> None:
    deadline = time.monotonic() + within
    async with httpx2.AsyncClient(base_url=running.url) as client:
        while time.monotonic() < deadline:
            if running.process.returncode is not None:
                raise AssertionError(f"{running.process} exited early:\n{running.tail(100)}")
            with contextlib.suppress(httpx2.TransportError):
                status = (await client.get(path)).status_code
                if any_answer or status == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError(f"nothing ready on port {running.port} in {within} s:\n{running.tail(100)}")


async def _collect(stream: asyncio.StreamReader, into: list[bytes], keep: int | None) -> None:
    while line := await stream.readline():
        into.append(line)
        if keep is not None:
            del into[:-keep]
