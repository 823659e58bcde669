"""The editorial UI with 100,000 articles: how long the list and the editor take to be
interactive in Chromium (Debian's, headless, driven by Playwright).

    python -m bench.ui [--articles 100000] [--loads 15]

"Interactive" is the page's own `cms:ready` mark (performance.mark): its module has loaded, asked
the API for its data, drawn it and wired its controls; measured from navigation start. The same
pages are measured first with only a few articles in the database (the baseline, in this same
run), then again after the bulk insert: the ratio says what 100,000 articles cost, on a machine
shared with other work. Every figure is the median of `--loads` page loads (after one warm-up);
p90 beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
import orjson
from playwright.async_api import Page, async_playwright

from bench.common import DEFAULT_SERVER_DSN, HOST, fixture, free_port, scratch_database
from cms.platform import passwords, users

CMS = Path(sys.executable).parent / "cms"
EMAIL = "bench@zeitung.example"
PASSWORD = "korrekt Pferd Batterie Heftklammer"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Statuses spread as in a newsroom's archive: mostly published, some drafts and reviews.
_BULK = """
INSERT INTO articles (id, slug, language, title, lead, body, section, tags, authors, related,
                      status, published_at, first_published_at, created_at, updated_at, owner, version)
SELECT gen_random_uuid(), 'bench-' || n, 'de', 'Meldung ' || n || ': ' || $1, $2, $3::jsonb,
       (ARRAY['world', 'politik', 'wirtschaft', 'sport', 'kultur'])[1 + n % 5],
       ARRAY[(ARRAY['ukraine', 'russland', 'usa', 'eu', 'wahl'])[1 + n % 5]],
       ARRAY[(ARRAY['Anna Schmidt', 'Ben Ott', 'Cem Kaya', 'Dana Roth'])[1 + n % 4]], '{}',
       (ARRAY['published', 'published', 'published', 'draft', 'in_review'])[1 + n % 5],
       CASE WHEN n % 5 < 3 THEN now() - n * interval '1 minute' END,
       CASE WHEN n % 5 < 3 THEN now() - n * interval '1 minute' END,
       now() - n * interval '1 minute', now() - n * interval '1 minute', 'bench', 1
FROM generate_series($4::int, $5::int) AS n"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextlib.asynccontextmanager
async def cms_serve(dsn: str) -> AsyncIterator[str]:
    """`cms serve` (the API and the UI) on a free port, stopped by its pid at the end."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {**os.environ, "CMS_DATABASE_URL": dsn, "CMS_PUBLIC_URL": base, "CMS_LOG_LEVEL": "warning"}
    process = await asyncio.create_subprocess_exec(
        str(CMS), "serve", "--host", HOST, "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with httpx2.AsyncClient(base_url=base) as client:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(httpx2.TransportError):
                    if (await client.get("/healthz")).status_code == 200:
                        break
                if time.monotonic() > deadline or process.returncode is not None:
                    raise RuntimeError("cms serve did not come up")
                await asyncio.sleep(0.1)
        yield base
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=20)


async def insert(conn: asyncpg.Connection[asyncpg.Record], first: int, last: int) -> None:
    article = fixture("article-stabschefs.de.json")
    body = orjson.dumps(article["body"]).decode()
    step = 20_000
    for start in range(first, last + 1, step):
        await conn.execute(_BULK, article["title"], article["lead"], body, start, min(last, start + step - 1))
    await conn.execute("ANALYZE articles")


async def interactive_ms(page: Page, url: str) -> float:
    await page.goto(url)
    await page.wait_for_selector("body[data-ready=true]", state="attached")
    ready: float = await page.evaluate("performance.getEntriesByName('cms:ready')[0].startTime")
    return ready


async def measure(page: Page, url: str, loads: int) -> list[float]:
    await interactive_ms(page, url)  # warm-up: caches, the JIT, the pool
    return [await interactive_ms(page, url) for _ in range(loads)]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=15)
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN)
    args = parser.parse_args()

    async with scratch_database(args.server_dsn, "ui") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            hashed = await passwords.Hashing(1).hash(PASSWORD)
            await users.create(
                conn, email=EMAIL, name="Bench", role="editor", password_hash=hashed, by="bench", address=None
            )
            await insert(conn, 1, 100)
            async with cms_serve(dsn) as base:
                async with httpx2.AsyncClient(base_url=base) as client:
                    signed = await client.post(
                        "/v1/auth/session", json={"email": EMAIL, "password": PASSWORD}
                    )
                    assert signed.status_code == 201, signed.text
                    # The article the editor opens: made through the API, so it has its history.
                    csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
                    made = await client.post(
                        "/v1/admin/articles", json=fixture("article-stabschefs.de.json"), headers=csrf
                    )
                    assert made.status_code == 201, made.text
                    editor_url = f"{base}/admin/articles/{made.json()['id']}"
                    cookie = dict(client.cookies)
                pages = {
                    "sign-in page (no data)": f"{base}/admin/signin",
                    "list, newest first": f"{base}/admin/",
                    "list, status+section filter": f"{base}/admin/?status=published&section=politik",
                    "list, filter matching nothing": f"{base}/admin/?status=published&section=sport",
                    "list, byline filter": f"{base}/admin/?author=Cem+Kaya",
                    # q= (title, lead, slug of every status, trigram index): one article, a few,
                    # every article (the fixture's title is in each), none; and the other sorts.
                    "list, q= one slug": f"{base}/admin/?q=bench-99999",
                    "list, q= a few titles": f"{base}/admin/?q=Meldung+4242",
                    "list, q= in every title": f"{base}/admin/?q=Stabschefs",
                    "list, q= matching nothing": f"{base}/admin/?q=zzqqxx",
                    "list, sorted by title": f"{base}/admin/?sort=title",
                    "list, oldest first": f"{base}/admin/?sort=oldest",
                    "editor, fixture article": editor_url,
                }
                results: dict[str, dict[str, list[float]]] = {name: {} for name in pages}
                with tempfile.TemporaryDirectory() as profile:
                    async with async_playwright() as playwright:
                        context = await playwright.chromium.launch_persistent_context(
                            profile, executable_path="/usr/bin/chromium", args=ARGS, headless=True
                        )
                        await context.add_cookies(
                            [{"name": name, "value": value, "url": base} for name, value in cookie.items()]
                        )
                        page = await context.new_page()
                        for name, url in pages.items():
                            results[name]["baseline"] = await measure(page, url, args.loads)
                        started = time.monotonic()
                        await insert(conn, 101, args.articles)
                        took = time.monotonic() - started
                        count = await conn.fetchval("SELECT count(*) FROM articles")
                        for name, url in pages.items():
                            results[name]["full"] = await measure(page, url, args.loads)
                        await context.close()
        finally:
            await conn.close()

    print(f"\nEditorial UI, time to interactive in headless Chromium (median and p90 of {args.loads} loads)")
    print(f"baseline: 101 articles; then {count:,} articles (bulk insert took {took:.1f} s)\n")
    print(f"{'page':32} {'baseline ms':>14} {f'{count:,} articles ms':>22} {'ratio':>7}")
    for name, runs in results.items():
        base_median = statistics.median(runs["baseline"])
        full_median = statistics.median(runs["full"])
        print(
            f"{name:32} {base_median:7.0f} (p90 {percentile(runs['baseline'], 0.9):4.0f})"
            f" {full_median:11.0f} (p90 {percentile(runs['full'], 0.9):4.0f})"
            f" {full_median / base_median:7.2f}"
        )
    worst = max(statistics.median(runs["full"]) for runs in results.values())
    print(
        f"\ntarget: every page interactive < 1000 ms at {count:,} articles: "
        f"{'met' if worst < 1000 else 'MISSED'}"
        f" (slowest median {worst:.0f} ms)"
    )


def _run() -> Any:
    return asyncio.run(main())


if __name__ == "__main__":
    _run()
