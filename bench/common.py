"""What both benchmarks share: a throwaway database, servers in subprocesses, the result table."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx2

from cms import schema

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
HOST = "127.0.0.1"  # every byte of benchmark traffic stays on this machine
# Where the benchmark may create (and afterwards drop) its database.
DEFAULT_SERVER_DSN = os.environ.get("CMS_BENCH_DATABASE_URL", f"postgresql://{HOST}:5432/postgres")


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def common_arguments(parser: argparse.ArgumentParser, *, duration: float, connections: int) -> None:
    parser.add_argument("--duration", type=float, default=duration, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load on each side first")
    parser.add_argument(
        "--settle", type=float, default=0.0, help="seconds of unmeasured load before each run"
    )
    parser.add_argument("--connections", type=int, default=connections, help="concurrent connections")
    parser.add_argument(
        "--rounds",
        type=int,
        default=12,
        help="rounds of (baseline, ours): many short ones, so that most pairs see the same neighbours",
    )
    parser.add_argument(
        "--client",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk when installed (auto), else the asyncio client",
    )
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN, help="PostgreSQL to create the db in")
    parser.add_argument(
        "--pin",
        metavar="SERVER:CLIENT",
        default=None,
        help="taskset CPU lists for the servers and the load generator, e.g. 0:1",
    )


def pinning(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(servers' CPUs, load generator's CPUs) from --pin, or (None, None)."""
    if not args.pin:
        return None, None
    server_cpus, _, client_cpus = args.pin.partition(":")
    return server_cpus or None, client_cpus or None


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """uvloop, like the uvicorn servers under test, so neither side gets a slower loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return asyncio.run(main())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())


# --- the database -------------------------------------------------------------------------


def dsn_for(server_dsn: str, database: str) -> str:
    return urlunsplit(urlsplit(server_dsn)._replace(path=f"/{database}"))


@contextlib.asynccontextmanager
async def scratch_database(server_dsn: str, label: str) -> AsyncIterator[str]:
    """A freshly migrated database of its own, dropped at the end whatever happens."""
    name = f"cms_bench_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    dsn = dsn_for(server_dsn, name)
    try:
        await schema.migrate(dsn)
        yield dsn
    finally:
        admin = await asyncpg.connect(server_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """One uvicorn process (see bench.server) listening on HOST:port."""

    kind: str
    port: int
    process: asyncio.subprocess.Process
    errors: IO[bytes]
    # What it wrote to stderr up to its exit, once it has exited (bench.server --gc-stats).
    last_words: str = ""

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cpu_seconds(self) -> float | None:
        return process_cpu_seconds(self.process.pid)

    def stderr_tail(self) -> str:
        self.errors.seek(0)
        return self.errors.read().decode(errors="replace")[-4000:]


@contextlib.asynccontextmanager
async def server(
    kind: str, dsn: str, ready_path: str, *, cpus: str | None = None, options: Sequence[str] = ()
) -> AsyncIterator[Server]:
    """Start `python -m bench.server KIND`, wait until it answers, stop it (by its pid) at the end.
    `cpus` pins it to those cores (a `taskset` list); `options` are more arguments for it."""
    port = free_port()
    pin = ["taskset", "--cpu-list", cpus] if cpus else []
    with tempfile.TemporaryFile() as errors:
        process = await asyncio.create_subprocess_exec(
            *pin,
            sys.executable,
            "-m",
            "bench.server",
            kind,
            "--dsn",
            dsn,
            "--port",
            str(port),
            *options,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=errors,
        )
        started = Server(kind, port, process, errors)
        try:
            await _wait_ready(started, ready_path)
            yield started
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            started.last_words = started.stderr_tail()


async def _wait_ready(started: Server, path: str) -> None:
    deadline = time.monotonic() + 30.0
    async with httpx2.AsyncClient(base_url=started.base_url, timeout=2.0) as client:
        while True:
            if started.process.returncode is not None:
                raise RuntimeError(f"the {started.kind} server exited:\n{started.stderr_tail()}")
            try:
                response = await client.get(path)
            except httpx2.TransportError:
                response = None
            if response is not None and response.status_code < 500:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {started.kind} server did not come up:\n{started.stderr_tail()}")
            await asyncio.sleep(0.1)


# --- results ------------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (Linux); None where /proc is absent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Measurement:
    requests: int
    seconds: float
    failures: int
    # CPU the side under test used during the run (its server process, or the baseline loop's
    # process), when known: unlike req/s it hardly moves when a neighbour takes the cores.
    cpu_seconds: float | None = None
    # Latency percentiles in seconds, when the load generator reports them (wrk does).
    p50: float | None = None
    p99: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_request(self) -> float | None:
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds / self.requests * 1e6


async def with_cpu(cpu: Callable[[], float | None], run: Coroutine[Any, Any, Measurement]) -> Measurement:
    """`run`, with the CPU time `cpu` counted across it."""
    before = cpu()
    measured = await run
    after = cpu()
    if before is None or after is None:
        return measured
    return dataclasses.replace(measured, cpu_seconds=after - before)


@dataclass
class Rounds:
    baseline: list[Measurement]
    ours: list[Measurement]

    def ratios(self) -> list[float]:
        return [o.rate / b.rate for b, o in zip(self.baseline, self.ours, strict=True) if b.rate]

    def ratio(self) -> float:
        """The median of the rounds' ratios: each round pairs two runs made side by side, and
        the median ignores a round that a neighbour's burst of load spoilt."""
        return statistics.median(self.ratios())

    def total_ratio(self) -> float:
        """Ours over baseline, each as all its requests over all its measured time."""
        return _total_rate(self.ours) / _total_rate(self.baseline)


def _total_rate(runs: list[Measurement]) -> float:
    return sum(m.requests for m in runs) / sum(m.seconds for m in runs)


def check_no_failures(label: str, measured: Measurement) -> None:
    if measured.failures:
        raise RuntimeError(f"{label}: {measured.failures} request(s) failed; the figures would mean nothing")


def _cpu(measured: Measurement | list[Measurement]) -> str:
    runs = measured if isinstance(measured, list) else [measured]
    known = [m.cpu_us_per_request for m in runs]
    values = [v for v in known if v is not None]
    return f"{statistics.median(values):.0f}" if values else "-"


def describe(client: str, args: argparse.Namespace) -> str:
    settle = f", each after {args.settle:g} s unmeasured" if args.settle > 0 else ""
    return (
        f"  client {client}, {args.connections} connections; each side warmed up {args.warmup:g} s, then "
        f"{args.rounds} rounds of (baseline, ours), {args.duration:g} s per run{settle}"
    )


def _ms(value: float | None) -> str:
    return f"{value * 1e3:.1f}" if value is not None else "-"


def p99_ratios(rounds: Rounds) -> list[float]:
    """Per round, ours' p99 latency over the baseline's (lower is better), where both are known."""
    return [o.p99 / b.p99 for b, o in zip(rounds.baseline, rounds.ours, strict=True) if o.p99 and b.p99]


def report(title: str, setup: str, baseline: str, ours: str, rounds: Rounds, target: float) -> None:
    print(f"\n{title}")
    print(setup)
    print(f"  baseline: {baseline}")
    print(f"  ours:     {ours}\n")
    print(
        f"{'round':>5}  {'baseline req/s':>14}  {'ours req/s':>10}  {'ratio':>5}  "
        f"{'CPU us/req: baseline':>20}  {'ours':>5}  {'p99 ms: baseline':>16}  {'ours':>6}"
    )
    for number, (b, o, r) in enumerate(zip(rounds.baseline, rounds.ours, rounds.ratios(), strict=True), 1):
        print(
            f"{number:>5}  {b.rate:>14.1f}  {o.rate:>10.1f}  {r:>5.2f}  {_cpu(b):>20}  {_cpu(o):>5}  "
            f"{_ms(b.p99):>16}  {_ms(o.p99):>6}"
        )
    ratios = rounds.ratios()
    print(
        f"{'all':>5}  {_total_rate(rounds.baseline):>14.1f}  {_total_rate(rounds.ours):>10.1f}  "
        f"{rounds.total_ratio():>5.2f}  {_cpu(rounds.baseline):>20}  {_cpu(rounds.ours):>5}"
    )
    verdict = "met" if rounds.ratio() >= target else "MISSED"
    print(
        f"\nratio {rounds.ratio():.2f} (median of the rounds; range {min(ratios):.2f}-{max(ratios):.2f}, "
        f"all requests over all time {rounds.total_ratio():.2f}); target >= {target}: {verdict}"
    )
    tails = p99_ratios(rounds)
    if tails:
        print(
            f"p99 ours / baseline {statistics.median(tails):.2f} (median of the rounds; "
            f"range {min(tails):.2f}-{max(tails):.2f})"
        )
