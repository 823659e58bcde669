"""Sitemaps and feeds at size: time, bytes and peak Python memory of one request each.

    python -m bench.feeds [--articles 100000] [--page-size 50000]

A fresh database gets `--articles` live articles (the fixture article, copied in SQL); the
application runs in this process and is called over ASGI, so `tracemalloc` sees everything it
allocates while it answers. The figure that matters: a full page of 50,000 URLs (about 10 MB
of XML) streams with a peak far below its own size, because it is written a chunk at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import tracemalloc
from collections.abc import MutableMapping
from typing import Any

import asyncpg

from bench.common import DEFAULT_SERVER_DSN, fixture, run, scratch_database
from cms.app import create_app
from cms.settings import Settings

_SEED = """
INSERT INTO articles (id, slug, language, title, lead, body, section, tags, authors, related, status,
                      published_at, first_published_at, created_at, updated_at, owner, version)
SELECT gen_random_uuid(), 'artikel-' || n, 'de', $1 || ' ' || n, $2, $3::jsonb, 'world', '{eu}', '{}', '{}',
       'published', now() - n * interval '1 minute', now() - n * interval '1 minute',
       now() - n * interval '1 minute', now() - n * interval '1 minute', 'bench', 1
FROM generate_series(1, $4) AS n"""


async def _get(app: Any, path: str, query: bytes = b"") -> tuple[int, int, int, float]:
    """Status, body bytes, body messages and seconds of one GET over ASGI."""
    done = asyncio.Event()
    sent = False
    status, size, messages = 0, 0, 0

    async def receive() -> MutableMapping[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status, size, messages
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))
            messages += 1
            if not message.get("more_body", False):
                done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
        "state": {},
    }
    started = time.perf_counter()
    await app(scope, receive, send)
    return status, size, messages, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=50_000)
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN)
    args = parser.parse_args()
    article = fixture("article-luxusgueter.de.json")
    async with scratch_database(args.server_dsn, "feeds") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            started = time.perf_counter()
            body = json.dumps(article["body"])
            await conn.execute(_SEED, article["title"], article["lead"], body, args.articles)
            await conn.execute("ANALYZE articles")
            print(f"seeded {args.articles} live articles in {time.perf_counter() - started:.1f} s")
        finally:
            await conn.close()
        settings = Settings(
            database_url=dsn,
            sitemap_page_size=args.page_size,
            feed_content="full",
            log_level="warning",
            log_format="json",
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            print(f"{'request':<42} {'status':>6} {'bytes':>11} {'chunks':>6} {'ms':>8} {'peak MiB':>9}")
            for path in (
                "/v1/feeds/sitemap.xml",
                "/v1/feeds/sitemaps/articles.xml",
                "/v1/feeds/sitemaps/news.xml",
                "/v1/feeds/rss.xml",
                "/v1/feeds/sections/world/atom.xml",
            ):
                await _get(app, path)  # warm: pool connections, prepared statements
                status, size, messages, seconds = await _get(app, path)
                tracemalloc.start()  # a second run, traced: tracing slows Python several times
                await _get(app, path)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                print(
                    f"{path:<42} {status:>6} {size:>11,} {messages:>6} "
                    f"{seconds * 1000:>8.1f} {peak / 2**20:>9.1f}"
                )


if __name__ == "__main__":
    run(main)
