"""What one delivery read leaves to the cyclic garbage collector: objects only a collection frees.

    python -m bench.gc_cycles [--requests 2000]

Runs our application in this process (its lifespan, a freshly migrated database holding the
fixture articles), switches the collector off, answers `GET /v1/content/articles/{slug}`
N times straight through the ASGI interface, then collects with `gc.DEBUG_SAVEALL` and
counts what was garbage by type: every object listed was part of a reference cycle that
reference counting alone could not free. Zero per request is the goal: then the collector
only runs when something else allocates, and its pauses leave the request path.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import os
import sys
import time
from typing import Any

import asyncpg
import httpx2

from bench.common import DEFAULT_SERVER_DSN, fixture, run, scratch_database
from bench.server import cms_app, settings_for
from cms.platform import tokens


async def _publish(app: Any, dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        editor = await tokens.create(conn, name="gc-editor", role="editor")
    finally:
        await conn.close()
    transport = httpx2.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {editor.token}"}
    async with httpx2.AsyncClient(transport=transport, base_url="http://test", headers=headers) as api:
        ids: list[str] = []
        for name in ("article-luxusgueter.de.json", "article-stabschefs.de.json"):
            body = {**fixture(name), "related": ids}
            created = await api.post("/v1/admin/articles", json=body)
            assert created.status_code == 201, created.text
            published = await api.post(f"/v1/admin/articles/{created.json()['id']}/publish")
            assert published.status_code == 200, published.text
            ids = [published.json()["id"]]
            slug: str = published.json()["slug"]
    return slug


def _everything(dsn: str) -> Any:
    """`cms up`'s application on an exchange and queues of this run's own (left on the broker:
    remove `gc_<pid>.*` afterwards if it matters)."""
    from cms.system import SystemSettings, everything

    settings = SystemSettings(
        database_url=dsn,
        amqp_prefix=f"gc_{os.getpid()}",
        log_format="json",
        log_level="info",
        gc_freeze_after_startup=False,
    )
    return everything(settings)


async def _get(app: Any, path: str, query: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
        "app": app,
    }
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def _garbage_by_type() -> collections.Counter[str]:
    gc.collect()
    counted = collections.Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
    gc.garbage.clear()
    return counted


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--up", action="store_true", help="everything `cms up` runs: relay, scheduler, every consumer"
    )
    parser.add_argument("--slug", default=None, help="read this slug instead (e.g. a missing one: 404)")
    parser.add_argument("--http", action="store_true", help="through uvicorn, loaded by wrk")
    parser.add_argument("--saveall", action="store_true", help="with --http: collector off, count garbage")
    parser.add_argument("--freeze", action="store_true", help="with --http: gc.freeze() before the load")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--referrers", action="store_true", help="print what refers to a sample of each type")
    args = parser.parse_args()
    async with scratch_database(args.server_dsn, "gc") as dsn:
        # Not frozen by the lifespan: this script times the collections both ways itself.
        app = _everything(dsn) if args.up else cms_app(settings_for(dsn, gc_freeze_after_startup=False))
        async with app.router.lifespan_context(app):
            app.state  # noqa: B018
            slug = await _publish(app, dsn)
            path = f"/v1/content/articles/{args.slug or slug}"
            print(f"tracked objects after start-up: {len(gc.get_objects())}")
            for label in ("full collection, nothing frozen", "full collection, again"):
                started = time.perf_counter()
                gc.collect()
                print(f"{label}: {(time.perf_counter() - started) * 1e3:.1f} ms")
            gc.freeze()
            started = time.perf_counter()
            gc.collect()
            print(f"full collection after gc.freeze(): {(time.perf_counter() - started) * 1e3:.1f} ms")
            gc.unfreeze()
            for _ in range(200):  # warm: first-use caches, pools, lazy imports
                await _get(app, path, b"language=de")
            if args.http:
                requests, counted, pauses = await _over_http(app, path, args)
            else:
                requests, pauses = args.requests, Pauses()
                gc.collect()
                gc.disable()
                gc.set_debug(gc.DEBUG_SAVEALL)
                _garbage_by_type()
                for _ in range(requests):
                    await _get(app, path, b"language=de")
                counted = _garbage_by_type()
                gc.set_debug(0)
                gc.enable()
    total = sum(counted.values())
    print(
        f"\n{requests} reads of {path}: {total} objects freed only by the cycle collector, "
        f"{total / max(requests, 1):.2f} per request\n"
    )
    for name, count in counted.most_common(args.top):
        print(f"{count / requests:8.3f}/req  {name}")
    pauses.print()


class Pauses:
    """Collections seen through gc.callbacks: count and longest pause per generation."""

    def __init__(self) -> None:
        self.started = 0.0
        self.by_generation: dict[int, list[float]] = collections.defaultdict(list)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.by_generation[info["generation"]].append(time.perf_counter() - self.started)

    def print(self) -> None:
        for generation, seconds in sorted(self.by_generation.items()):
            seconds.sort()
            median = seconds[len(seconds) // 2]
            print(
                f"gen{generation}: {len(seconds)} collections, median {median * 1e3:.2f} ms, "
                f"max {seconds[-1] * 1e3:.2f} ms, total {sum(seconds) * 1e3:.1f} ms"
            )


async def _over_http(app: Any, path: str, args: argparse.Namespace) -> tuple[int, Any, Pauses]:
    """Serve with uvicorn in this process while wrk (another process) loads it."""
    import uvicorn

    from bench.common import free_port

    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", access_log=False, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for it)
        await asyncio.sleep(0.05)
    pauses = Pauses()

    async def wrk(seconds: int) -> int:
        process = await asyncio.create_subprocess_exec(
            "wrk",
            "-t1",
            f"-c{args.connections}",
            f"-d{seconds}s",
            f"http://127.0.0.1:{port}{path}?language=de",
            stdout=asyncio.subprocess.PIPE,
        )
        out = (await process.communicate())[0].decode()
        print(out)
        return int(out.split(" requests in")[0].split()[-1])

    await wrk(2)
    gc.collect()
    if args.saveall:
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)
        _garbage_by_type()
    if args.freeze:
        gc.freeze()
    gc.callbacks.append(pauses)
    requests = await wrk(args.seconds)
    gc.callbacks.remove(pauses)
    counted = _garbage_by_type() if args.saveall else collections.Counter()
    gc.set_debug(0)
    gc.enable()
    server.should_exit = True
    await serving
    return requests, counted, pauses


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    run(main)
