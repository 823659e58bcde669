"""Varnish tag purges: the xkey vmod against bans on the xkey header, by measurement.

Both through deploy/varnish/default.vcl as shipped (it speaks both: `PURGE` + `xkey-purge`, and
`BAN` + `xkey-ban`), each on a fresh varnishd holding `--objects` cached objects of 6 keys each,
in front of bench/purge_backend.py. For each method, in the same run:

1. purge latency: `--purges` single-article purges one after another, p50 and p99 of the
   request (the purge is done when Varnish answers: the next lookup is a miss);
2. purge throughput: the same number again from 8 concurrent clients, purges per second;
3. lookups after purging: hits per second and p99 with wrk on the objects not purged, before
   any purge and after the purges (bans pile up and every lookup of an older object is tested
   against them until the ban lurker has been through);
4. a broad key (`list:all`, every object): how long the purge request takes, and whether the
   next lookup of an object is a miss.

`python -m bench.varnish_purge [--objects 20000] [--purges 500]`
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2

from bench.common import ROOT, free_port
from tests.varnish import varnish

HOST = "127.0.0.1"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is missing: apt-get install wrk varnish varnish-modules")
    return found


@contextlib.asynccontextmanager
async def backend() -> AsyncIterator[int]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.purge_backend", str(port), cwd=ROOT, stdout=asyncio.subprocess.DEVNULL
    )
    try:
        async with httpx2.AsyncClient() as client:
            for _ in range(200):
                with contextlib.suppress(httpx2.TransportError):
                    if (await client.get(f"http://{HOST}:{port}/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
        yield port
    finally:
        process.terminate()
        await process.wait()


def fill(port: int, objects: int) -> float:
    """Requests /obj/0 .. /obj/<objects - 1> once each through Varnish with wrk (one thread, so
    one counter), then as hits until the time is up; seconds it took to cache them all."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f"local n = -1\nrequest = function()\n  n = (n + 1) % {objects}\n")
        script.write('  return wrk.format("GET", "/obj/" .. n)\nend\n')
    started = time.perf_counter()
    seconds = 5
    while True:
        subprocess.run(  # noqa: S603 (wrk with arguments built here)
            [tool("wrk"), "-t1", "-c16", f"-d{seconds}s", "-s", script.name, f"http://{HOST}:{port}/"],
            capture_output=True,
            check=True,
        )
        if counter_of(port, "MAIN.n_object") >= objects:
            break
    Path(script.name).unlink()
    return time.perf_counter() - started


def purge_request(method: str, key: str) -> tuple[str, dict[str, str]]:
    if method == "ban":
        return "BAN", {"xkey-ban": f"(^|[[:space:],])({key})([[:space:],]|$)"}
    return "PURGE", {"xkey-purge": key, "xkey-soft": "1"}


async def timed_purges(client: httpx2.AsyncClient, method: str, numbers: list[int]) -> list[float]:
    took = []
    for number in numbers:
        verb, headers = purge_request(method, f"article:{number}")
        started = time.perf_counter()
        response = await client.request(verb, "/", headers=headers)
        took.append(time.perf_counter() - started)
        assert response.status_code == 200, (response.status_code, response.reason_phrase)
    return took


async def concurrent_purges(client: httpx2.AsyncClient, method: str, numbers: list[int]) -> float:
    queue = list(numbers)

    async def worker() -> None:
        while queue:
            verb, headers = purge_request(method, f"article:{queue.pop()}")
            response = await client.request(verb, "/", headers=headers)
            assert response.status_code == 200, response.text

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(8)))
    return len(numbers) / (time.perf_counter() - started)


def wrk_hits(port: int, kept: list[int], seconds: int) -> tuple[float, float]:
    """Requests per second and p99 (ms) of GETs spread over the objects in `kept` (all hits)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        sample = random.Random(1).sample(kept, min(len(kept), 2000))
        script.write("local ids = {" + ",".join(map(str, sample)) + "}\n")
        script.write("local i = 0\nrequest = function()\n  i = i % #ids + 1\n")
        script.write('  return wrk.format("GET", "/obj/" .. ids[i])\nend\n')
    output = subprocess.run(  # noqa: S603 (wrk with arguments built here)
        [
            tool("wrk"),
            "-t2",
            "-c32",
            f"-d{int(seconds)}s",
            "--latency",
            "-s",
            script.name,
            f"http://{HOST}:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(script.name).unlink()
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)", output)
    assert p99 is not None, output
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rate, float(p99.group(1)) * scale


WORKDIRS: dict[int, str] = {}


def counter_of(port: int, name: str) -> int:
    return counter(WORKDIRS[port], name)


def counter(workdir: str, name: str) -> int:
    output = subprocess.run(  # noqa: S603
        [tool("varnishstat"), "-n", workdir, "-1", "-f", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(output[1]) if len(output) > 1 else 0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(method: str, objects: int, purges: int, seconds: int) -> dict[str, float]:
    async with backend() as backend_port, varnish(backend_port) as cache:
        WORKDIRS[cache.port] = cache.workdir
        limits = httpx2.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx2.AsyncClient(base_url=cache.url, limits=limits, timeout=30) as client:
            fill_seconds = fill(cache.port, objects)
            numbers = list(range(objects))
            random.Random(2).shuffle(numbers)
            first, second = numbers[:purges], numbers[purges : 2 * purges]
            kept = numbers[2 * purges :]
            before_rate, before_p99 = wrk_hits(cache.port, kept, seconds)

            took = await timed_purges(client, method, first)
            after = await client.get(f"/obj/{first[0]}")
            assert after.headers["x-cache"] == "MISS", (after.headers, took[:3])
            rate = await concurrent_purges(client, method, second)
            bans = counter(cache.workdir, "MAIN.bans")
            after_rate, after_p99 = wrk_hits(cache.port, kept, seconds)

            verb, headers = purge_request(method, "list:all")
            started = time.perf_counter()
            response = await client.request(verb, "/", headers=headers)
            broad = time.perf_counter() - started
            assert response.status_code == 200
            gone = (await client.get(f"/obj/{kept[0]}")).headers["x-cache"] == "MISS"
    return {
        "fill_s": fill_seconds,
        "p50_ms": statistics.median(took) * 1000,
        "p99_ms": percentile(took, 0.99) * 1000,
        "purges_per_s": rate,
        "bans_listed": bans,
        "hits_per_s_before": before_rate,
        "hits_p99_ms_before": before_p99,
        "hits_per_s_after": after_rate,
        "hits_p99_ms_after": after_p99,
        "broad_ms": broad * 1000,
        "broad_then_miss": float(gone),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--purges", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=5, help="seconds of wrk per lookup measurement")
    args = parser.parse_args()
    results = {}
    for method in ("xkey", "ban"):
        results[method] = await measure(method, args.objects, args.purges, args.seconds)
    print(
        f"{args.objects} objects cached, {args.purges} purges timed one by one, {args.purges} from 8 clients"
    )
    print(f"{'':28}{'xkey':>14}{'ban':>14}{'ban ÷ xkey':>14}")
    for name in results["xkey"]:
        x, b = results["xkey"][name], results["ban"][name]
        ratio = f"{b / x:.2f}" if x else "-"
        print(f"{name:28}{x:14.2f}{b:14.2f}{ratio:>14}")


if __name__ == "__main__":
    asyncio.run(main())
