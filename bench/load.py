"""Load generators: `wrk` when it is installed, else a lean asyncio HTTP/1.1 keep-alive client.

Both keep N connections busy with one request in flight each (no pipelining) for a fixed
time and count the answers that arrived within it.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from bench.common import HOST, Measurement


@dataclass(frozen=True)
class Request:
    """What to send. `body_parts` is (before, after) a per-request number, so that every
    request may create a distinct article; None for a request without a body."""

    method: str
    path: str
    headers: dict[str, str]
    body_parts: tuple[bytes, bytes] | None = None
    expect: int = 200

    def body(self, number: str) -> bytes:
        assert self.body_parts is not None
        return self.body_parts[0] + number.encode() + self.body_parts[1]


def pick_client(choice: str) -> str:
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if choice == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--client wrk: wrk is not installed")
    return choice


async def measure(
    client: str,
    port: int,
    request: Request,
    *,
    connections: int,
    seconds: float,
    tag: str,
    cpus: str | None = None,
) -> Measurement:
    """`tag` is unique per call: it goes into the per-request number of bodies. `cpus` pins
    wrk to those cores (a `taskset` list), away from the server's."""
    if client == "wrk":
        return await _wrk(port, request, connections=connections, seconds=seconds, tag=tag, cpus=cpus)
    return await _python(port, request, connections=connections, seconds=seconds, tag=tag)


# --- the asyncio client -------------------------------------------------------------------


async def _python(port: int, request: Request, *, connections: int, seconds: float, tag: str) -> Measurement:
    counter = itertools.count(1)
    build = _builder(request, port, lambda: f"{tag}-{next(counter)}")
    loop = asyncio.get_running_loop()
    done = [0, 0]  # answered as expected, failed
    opened = [await asyncio.open_connection(HOST, port) for _ in range(connections)]
    started = loop.time()
    deadline = started + seconds

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                writer.write(build())
                status = await _read_response(reader)
                if loop.time() > deadline:
                    return
                done[0 if status == request.expect else 1] += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(r, w) for r, w in opened))
    return Measurement(requests=done[0], seconds=seconds, failures=done[1])


def _builder(request: Request, port: int, number: Callable[[], str]) -> Callable[[], bytes]:
    head = f"{request.method} {request.path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in request.headers.items()
    )
    if request.body_parts is None:
        fixed = (head + "\r\n").encode()
        return lambda: fixed
    head_bytes = head.encode()

    def build() -> bytes:
        body = request.body(number())
        return head_bytes + b"Content-Length: %d\r\n\r\n" % len(body) + body

    return build


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value)
        elif lowered == b"transfer-encoding":
            raise RuntimeError("the benchmark client reads Content-Length bodies only")
    if length:
        await reader.readexactly(length)
    return status


# --- wrk ----------------------------------------------------------------------------------

_RATE = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


async def _wrk(
    port: int, request: Request, *, connections: int, seconds: float, tag: str, cpus: str | None
) -> Measurement:
    pin = ["taskset", "--cpu-list", cpus] if cpus else []
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="utf-8") as script:
        script.write(_lua(request, tag))
        script.flush()
        process = await asyncio.create_subprocess_exec(
            *pin,
            "wrk",
            "--latency",
            "--threads",
            "1",
            "--connections",
            str(connections),
            "--duration",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--script",
            script.name,
            f"http://{HOST}:{port}{request.path}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output = (await process.communicate())[0].decode(errors="replace")
    found = _RATE.search(output)
    if process.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed:\n{output}")
    elapsed = float(found.group(2)) * _UNITS[found.group(3)]
    failures = sum(int(n) for m in (_NON_2XX.search(output),) if m for n in m.groups())
    socket_errors = _SOCKET_ERRORS.search(output)
    if socket_errors:
        failures += sum(int(n) for n in socket_errors.groups())
    return Measurement(
        requests=int(found.group(1)) - failures,
        seconds=elapsed,
        failures=failures,
        p50=_percentile(output, "50%"),
        p99=_percentile(output, "99%"),
    )


def _percentile(output: str, which: str) -> float | None:
    """A latency percentile (seconds) from wrk's `--latency` distribution."""
    found = re.search(rf"^\s*{re.escape(which)}\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    return float(found.group(1)) * _UNITS[found.group(2)] if found else None


def _lua_string(data: bytes) -> str:
    """A Lua string literal holding exactly `data`: printable ASCII as is, other bytes as \\ddd."""
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\{b:03d}" for b in data) + '"'


def _lua(request: Request, tag: str) -> str:
    headers = ", ".join(
        f"[{_lua_string(k.encode())}] = {_lua_string(v.encode())}" for k, v in request.headers.items()
    )
    lines = [
        f"local headers = {{{headers}}}",
        f"local method = {_lua_string(request.method.encode())}",
        f"local path = {_lua_string(request.path.encode())}",
    ]
    if request.body_parts is None:
        lines.append("local fixed = wrk.format(method, path, headers)")
        lines.append("request = function() return fixed end")
    else:
        lines += [
            f"local before = {_lua_string(request.body_parts[0])}",
            f"local after = {_lua_string(request.body_parts[1])}",
            "local n = 0",
            "request = function()",
            "  n = n + 1",
            f"  local number = {_lua_string(tag.encode())} .. '-' .. n",
            "  return wrk.format(method, path, headers, before .. number .. after)",
            "end",
        ]
    return "\n".join(lines) + "\n"
