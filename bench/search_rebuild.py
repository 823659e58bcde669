"""Rebuild speed: `cms events resync` into an empty search index, in articles per second.

    python -m bench.search_rebuild [--articles 3000] [--way both|bulk|live]

On a scratch database (removed at the end) `--articles` articles of bench.search_corpus
(~500 words, de/en/fr) are created and published through `cms.articles.service`, with no relay
running, so the index stays empty. Then the search consumer runs as operators run it
(`cms-consumer search`, its own process) and `cms events resync --to <its queue>` (the real command,
its own process) sends every article to it; the figure is the articles indexed per second, from
the command's start to the last article in `search.documents`.

The same articles also go through `cms-consumer search rebuild` (its own process, the live
consumer running beside it; first, by default `--way both`): it builds a new index in bulk,
every index included, and swaps it in. Its figure is the articles per second from the resync
command's start to the swap (the new index answers searches); then the ratio of the two ways,
on the same articles in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from bench.common import DEFAULT_SERVER_DSN, ROOT, run
from bench.search import DEFAULT_AMQP_URL, EDITOR, Setup, article_of, command_process, load, scratch
from bench.search_corpus import corpus
from cms.articles import service
from cms.platform import db


async def seed(pool: db.Pool, count: int, seed_value: int) -> None:
    docs = iter(corpus(seed_value).documents(count))
    lock = asyncio.Lock()

    async def worker() -> None:
        while True:
            async with lock:
                doc = next(docs, None)
            if doc is None:
                return
            async with pool.acquire() as conn:
                created = await service.create(
                    conn, article_of(doc, "rebuild"), service.Context(EDITOR, datetime.now(UTC), None)
                )
                await service.publish(
                    conn, created.id, None, created.version, service.Context(EDITOR, datetime.now(UTC), None)
                )

    await asyncio.gather(*(worker() for _ in range(8)))


async def resync(env: dict[str, str], queue: str) -> asyncio.subprocess.Process:
    """The real `cms events resync --to QUEUE`, started as its own process."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from cms.cli import main; main()", "events", "resync", "--to", queue,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def bulk(setup: Setup, pool: db.Pool, args: argparse.Namespace) -> float:
    """`cms-consumer search rebuild` beside the live consumer, fed by `cms events resync`."""
    env = setup.environment(
        CMS_LOG_LEVEL="warning",
        CMS_SEARCH_REBUILD_WRITERS=str(args.writers),
        CMS_SEARCH_REBUILD_READERS=str(args.readers),
        CMS_SEARCH_REBUILD_BATCH_SIZE=str(args.batch_size),
    )
    rebuild = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from consumers.cli import main; main()", "search", "rebuild",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert rebuild.stderr is not None
    lines: list[str] = []
    while "now run" not in (line := (await rebuild.stderr.readline()).decode()):
        if not line:
            raise RuntimeError("the rebuild stopped before it was ready:\n" + "".join(lines))
        lines.append(line)
    started = time.perf_counter()
    command = await resync(env, f"{setup.prefix}.search.rebuild")
    searchable = 0.0
    while line := (await rebuild.stderr.readline()).decode():
        lines.append(line)
        if "answers searches" in line:
            searchable = time.perf_counter() - started
    took = time.perf_counter() - started
    await asyncio.wait_for(rebuild.wait(), timeout=args.timeout)
    await command.wait()
    indexed = await pool.fetchval("SELECT count(*) FROM search.documents")
    shown = ("rebuilt", "not indexed", "built ", "analysed", "words written", "swap")
    print("".join(line for line in lines if line.startswith(shown)).strip())
    print(
        f"`cms-consumer search rebuild` (bulk, {args.readers} readers, {args.writers} writers, batches of "
        f"{args.batch_size}): {indexed:,} articles, swapped in after {searchable:.1f} s = "
        f"{indexed / searchable:,.0f} articles/s (rebuild exit {rebuild.returncode} after {took:.1f} s, "
        f"resync exit {command.returncode}); {load()}"
    )
    return float(indexed / searchable)


async def live(setup: Setup, pool: db.Pool, args: argparse.Namespace) -> float:
    """`cms events resync` into the live consumer's empty index, article by article."""
    started = time.perf_counter()
    command = await resync(setup.environment(), f"{setup.prefix}.search")
    while (indexed := await pool.fetchval("SELECT count(*) FROM search.documents")) < args.articles:
        if time.perf_counter() - started > args.timeout:
            break
        await asyncio.sleep(0.1)
    took = time.perf_counter() - started
    await command.wait()
    print(
        f"`cms events resync` into an empty index: {indexed:,} articles in {took:.1f} s = "
        f"{indexed / took:,.0f} articles/s (command exit {command.returncode}); {load()}"
    )
    return float(indexed / took)


async def main(args: argparse.Namespace) -> None:
    async with scratch(args.server_dsn, args.amqp_url) as setup:
        settings = setup.settings(pool_max_size=10)
        started = time.perf_counter()
        async with db.create_pool(settings, application_name="bench-rebuild") as pool:
            await seed(pool, args.articles, args.seed)
        print(f"{args.articles:,} articles published in {time.perf_counter() - started:.0f} s; {load()}")
        if args.without_rum:
            async with db.connection(settings, application_name="bench-rebuild") as conn:
                await conn.execute("DROP INDEX IF EXISTS search.documents_rum")
        async with (
            command_process(setup, "consumers.cli", ["search"]),
            db.create_pool(settings, application_name="bench-rebuild") as pool,
        ):
            indexed = await pool.fetchval("SELECT count(*) FROM search.documents")
            assert indexed == 0, f"the index should start empty, it holds {indexed}"
            rates: dict[str, float] = {}
            if args.way in ("bulk", "both"):
                rates["bulk"] = await bulk(setup, pool, args)
            if args.way == "both":
                # The same articles again, the plain way, into an empty index.
                await pool.execute("TRUNCATE search.documents, search.applied_versions, search.words")
            if args.way in ("live", "both"):
                rates["live"] = await live(setup, pool, args)
    if len(rates) == 2:
        print(
            f"bulk ÷ plain, same articles, same run: {rates['bulk'] / rates['live']:.1f}x (target: 10x); "
            f"{load()}"
        )


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=20220519)
    parser.add_argument(
        "--without-rum",
        action="store_true",
        help="drop the RUM index first: the store of a PostgreSQL without it",
    )
    parser.add_argument(
        "--way",
        choices=("both", "bulk", "live"),
        default="both",
        help="bulk: `cms-consumer search rebuild`; live: resync into the consumer; both, in turn",
    )
    parser.add_argument("--readers", type=int, default=2, help="bulk: batches read at once")
    parser.add_argument("--writers", type=int, default=2, help="bulk: batches written at once")
    parser.add_argument("--batch-size", type=int, default=500, help="bulk: events per batch")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the index")
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN)
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP_URL)
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(lambda: main(parse()))
