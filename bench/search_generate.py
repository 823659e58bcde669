"""A search index of many synthetic articles, written straight into `search.documents`.

    python -m bench.search_generate --documents 1000000 --database cms_bench_search_1m

The articles of `bench.search_corpus` (de, en, fr; Zipf-distributed vocabulary, lengths like
news articles) are made by `--workers` processes, each sending batches with COPY into a
temporary table of its own connection and moving them into `search.documents` with the
consumer's own tsvector function (`search.document_tsv`: the same weights, the same
truncation), so the database parses the text as the consumer does. The table's secondary
indexes are dropped first and built afterwards from their own definitions (as pg_indexes gives
them), then VACUUM ANALYZE. The database is created and migrated when missing and is kept: the
search benchmark reuses it (`python -m bench.search --database NAME`).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Sequence

import asyncpg

from bench.common import DEFAULT_SERVER_DSN, dsn_for
from bench.search_corpus import corpus
from cms import schema
from cms.system import SystemSettings
from consumers.runtime import store as runtime_store
from consumers.search import SPEC

BATCH = 1000
_COLUMNS = ("article_id", "language", "slug", "title", "lead", "body", "section", "tags",
            "published_at", "version", "config", "snippet_text")  # fmt: skip
_STAGE = """
CREATE TEMPORARY TABLE staged (
    article_id uuid, language text, slug text, title text, lead text, body text, section text,
    tags text[], published_at timestamptz, version integer, config text, snippet_text text
) ON COMMIT DELETE ROWS"""
_MOVE = """
INSERT INTO search.documents (article_id, language, slug, title, section, tags, published_at,
                              version, config, snippet_text, tsv, truncated)
SELECT s.article_id, s.language, s.slug, s.title, s.section, s.tags, s.published_at, s.version,
       s.config::regconfig, s.snippet_text, t.tsv, t.truncated
FROM staged s, search.document_tsv(s.config::regconfig, s.title, s.lead, s.body, s.tags) AS t"""


def years_for(count: int) -> float:
    """The span of the archive: about 90 articles a day, at least 3 years, at most 10."""
    return min(10.0, max(3.0, count / 33_000))


async def prepare(server_dsn: str, name: str) -> str:
    """The database `name`, created when missing, with the search store migrated."""
    admin = await asyncpg.connect(server_dsn)
    try:
        if not await admin.fetchval("SELECT true FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = dsn_for(server_dsn, name)
    await schema.migrate(dsn)
    await runtime_store.prepare(
        SystemSettings(database_url=dsn, amqp_prefix=f"bench_generate_{uuid.uuid4().hex[:6]}"), SPEC
    )
    return dsn


async def _write(dsn: str, count: int, years: float, seed: int, start: int, stride: int) -> int:
    texts = corpus(seed)
    conn = await asyncpg.connect(dsn)
    written = 0
    try:
        await conn.execute("SET synchronous_commit = off")
        await conn.execute(_STAGE)
        batch: list[tuple[object, ...]] = []
        for doc in texts.documents(count, years=years, start=start, stride=stride):
            batch.append(
                (uuid.UUID(doc.article_id), doc.language, doc.slug, doc.title, doc.lead, doc.body,
                 doc.section, doc.tags, doc.published_at, doc.version, doc.config, doc.snippet_text)
            )  # fmt: skip
            if len(batch) == BATCH:
                written += await _move(conn, batch)
                batch = []
        if batch:
            written += await _move(conn, batch)
    finally:
        await conn.close()
    return written


async def _move(conn: asyncpg.Connection, batch: list[tuple[object, ...]]) -> int:
    async with conn.transaction():
        await conn.copy_records_to_table("staged", records=batch, columns=_COLUMNS)
        await conn.execute(_MOVE)
    return len(batch)


def _worker(dsn: str, count: int, years: float, seed: int, start: int, stride: int) -> int:
    return asyncio.run(_write(dsn, count, years, seed, start, stride))


async def generate(dsn: str, count: int, *, seed: int, workers: int) -> None:
    years = years_for(count)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE search.documents")
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'search' "
            "AND tablename = 'documents' AND indexname <> 'documents_pkey'"
        )
        for index in indexes:
            await conn.execute(f'DROP INDEX search."{index["indexname"]}"')
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            jobs = [
                loop.run_in_executor(None, pool.apply, _worker, (dsn, count, years, seed, number, workers))
                for number in range(workers)
            ]
            written = sum(await asyncio.gather(*jobs))
        inserted = time.perf_counter() - started
        print(f"   {written:,} articles over {years:g} years written in {inserted:.0f} s "
              f"({written / inserted:,.0f}/s, {workers} processes)", flush=True)  # fmt: skip
        await conn.execute("SET maintenance_work_mem = '1GB'")
        for index in indexes:
            started = time.perf_counter()
            await conn.execute(index["indexdef"])
            print(f"   {index['indexname']} built in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE search.documents")
        print(f"   VACUUM ANALYZE in {time.perf_counter() - started:.0f} s", flush=True)
        languages = await conn.fetch("SELECT language, count(*) FROM search.documents GROUP BY 1 ORDER BY 1")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('search.documents'))")
    finally:
        await conn.close()
    print(f"   {', '.join(f'{r[0]} {r[1]:,}' for r in languages)}; table with its indexes {size}")


async def main(args: argparse.Namespace) -> None:
    dsn = await prepare(args.server_dsn, args.database)
    print(f"database {args.database}: generating {args.documents:,} articles", flush=True)
    await generate(dsn, args.documents, seed=args.seed, workers=args.workers)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--database", required=True, help="created when missing, kept afterwards")
    parser.add_argument("--workers", type=int, default=2, help="processes making and writing articles")
    parser.add_argument("--seed", type=int, default=20220519, help="of the synthetic corpus")
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN, help="PostgreSQL to create the db in")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
