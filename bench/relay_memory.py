"""Relay memory with large events: peak RSS of `cms relay` draining a backlog of big drafts.

    python -m bench.relay_memory [--drafts 150] [--megabytes 1.8]

`cms relay` runs as its own process, as in production, twice over the same backlog: first
with the byte cap lifted (`CMS_RELAY_BATCH_BYTES` of 1 TiB: batches bounded by rows alone,
as before the cap existed), then with the default cap. The figure is each run's peak
resident set size (VmHWM, Linux) until every row is marked sent. The database
(`cms_bench_memory_<pid>_…`), an exchange and a queue under a unique prefix are removed at
the end, also on error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
import asyncpg

from bench.common import DEFAULT_SERVER_DSN, HOST, scratch_database
from cms.articles import service
from cms.articles.model import ArticleCreate
from cms.platform import db
from cms.platform.identity import Actor
from cms.platform.tokens import Role
from cms.settings import Settings

DEFAULT_AMQP_URL = os.environ.get("CMS_BENCH_AMQP_URL", f"amqp://guest:guest@{HOST}:5672/")
UNCAPPED = 2**40
WORD = "Wort "


async def write_drafts(conn: asyncpg.Connection[asyncpg.Record], drafts: int, megabytes: float) -> float:
    """`drafts` drafts of about `megabytes` each, through the service; their average event size in MB."""
    ctx = service.Context(actor=Actor("bench", Role.editor), now=datetime.now(UTC), correlation_id="bench")
    text = WORD * int(megabytes * 1e6 / len(WORD))
    for number in range(drafts):
        draft = ArticleCreate(
            title=f"Dossier {number}", language="de", body=[{"type": "paragraph", "text": f"{number} {text}"}]
        )
        await service.create(conn, draft, ctx)
    average = await conn.fetchval("SELECT avg(octet_length(payload::text))::float8 FROM outbox")
    return float(average) / 1e6


def peak_rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no VmHWM in /proc (Linux only)")


async def drain(conn: asyncpg.Connection[asyncpg.Record], env: dict[str, str]) -> tuple[int, float]:
    """Run `cms relay` until every row is sent; its peak RSS in MB and the seconds taken."""
    await conn.execute("UPDATE outbox SET sent_at = NULL")
    cms = str(Path(sys.executable).parent / "cms")
    process = await asyncio.create_subprocess_exec(cms, "relay", env=env)
    start = time.perf_counter()
    peak = 0
    try:
        while await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
            if process.returncode is not None:
                raise RuntimeError("the relay exited before the backlog was drained")
            peak = max(peak, peak_rss_mb(process.pid))
            await asyncio.sleep(0.02)
        seconds = time.perf_counter() - start
        return max(peak, peak_rss_mb(process.pid)), seconds
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def main(args: argparse.Namespace) -> None:
    prefix = f"bench-memory-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    async with scratch_database(args.server_dsn, "memory") as dsn:
        conn = await db.connect(Settings(database_url=dsn), application_name="bench-memory")
        connection = await aio_pika.connect(args.amqp_url)
        try:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(
                f"{prefix}.events", aio_pika.ExchangeType.TOPIC, durable=True
            )
            # Every publish routable; the queue keeps only the newest message.
            queue = await channel.declare_queue(f"{prefix}.sink", arguments={"x-max-length": 1})
            await queue.bind(exchange, "#")
            size = await write_drafts(conn, args.drafts, args.megabytes)
            default_cap = int(Settings.model_fields["relay_batch_bytes"].default)
            print(f"\n{args.drafts} events of {size:.2f} MB on average, `cms relay` as its own process")
            print(f"{'CMS_RELAY_BATCH_BYTES':>22}  {'peak RSS MB':>11}  {'drained in s':>12}")
            for cap in (UNCAPPED, default_cap):
                env = {
                    "PATH": os.environ.get("PATH", ""),
                    "CMS_DATABASE_URL": dsn,
                    "CMS_AMQP_URL": args.amqp_url,
                    "CMS_AMQP_PREFIX": prefix,
                    "CMS_RELAY_PORT": "0",
                    "CMS_RELAY_BATCH_BYTES": str(cap),
                    "CMS_LOG_FORMAT": "json",
                    "CMS_LOG_LEVEL": "warning",
                }
                peak, seconds = await drain(conn, env)
                label = "unbounded (rows only)" if cap == UNCAPPED else str(cap)
                print(f"{label:>22}  {peak:>11}  {seconds:>12.1f}")
        finally:
            await connection.close()
            await conn.close()
            await _remove(args.amqp_url, prefix)


async def _remove(url: str, prefix: str) -> None:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        await channel.queue_delete(f"{prefix}.sink")
        await channel.exchange_delete(f"{prefix}.events")
    finally:
        await connection.close()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.relay_memory", description=__doc__.split("\n")[0])
    parser.add_argument("--drafts", type=int, default=150, help="drafts in the backlog")
    parser.add_argument("--megabytes", type=float, default=1.8, help="text per draft, MB")
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN, help="PostgreSQL to create the db in")
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP_URL)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
