"""Relay benchmark: throughput from a backlog against a plain aio-pika loop, and commit-to-broker latency.

    python -m bench.relay [--backlog 50000] [--rounds 3] [--duration 20] [--rate 200]

1. Throughput. The outbox is filled with a backlog of article events of real size (copies of
   events that `service.create` wrote, each with its own event id). The real `Relay` drains it
   into `<prefix>.events`, timed from its start until every row is marked sent. The baseline, in
   the same run, is a plain aio-pika loop publishing the same message bodies with the same
   properties (persistent, mandatory, publisher confirms, one relay batch in flight, then await).
   Runs alternate, each round on a fresh backlog; the figure is relay msgs/s ÷ baseline msgs/s.
2. Latency. A writer commits `service.create` / `service.update` at a steady rate through a pool,
   paced by the clock; `cms relay` runs as its own process, as in production; a consumer on a
   queue bound `#` notes when each event arrives. Latency = arrival - the write's commit returning.

Everything it creates (the database `cms_bench_relay_<pid>`, an exchange and a queue under a
unique prefix, a relay process) is removed at the end, also on error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import aio_pika
import asyncpg
import orjson
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from prometheus_client import CollectorRegistry

from bench.common import scratch_database
from cms.articles import service
from cms.articles.model import ArticleCreate, ArticleUpdate
from cms.events import outbox
from cms.events.contract import Article, routing_key
from cms.events.relay import Relay
from cms.platform import db
from cms.platform import log as cms_log
from cms.platform.identity import Actor
from cms.platform.tokens import Role
from cms.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
HOST = "127.0.0.1"  # every byte of benchmark traffic stays on this machine
DEFAULT_SERVER_DSN = os.environ.get("CMS_BENCH_DATABASE_URL", f"postgresql://{HOST}:5432/postgres")
DEFAULT_AMQP_URL = os.environ.get("CMS_BENCH_AMQP_URL", f"amqp://guest:guest@{HOST}:5672/")
DEFAULT_BATCH = int(Settings.model_fields["relay_batch_size"].default)
CONTENT_TYPE = "application/cloudevents+json"
EDITOR = Actor(name="bench", role=Role.editor)
QueueType = Literal["classic", "quorum"]


# --- setup and teardown -------------------------------------------------------------------


@dataclass(frozen=True)
class Broker:
    url: str
    prefix: str
    queue_type: QueueType

    @property
    def exchange(self) -> str:
        return f"{self.prefix}.events"

    @property
    def queue(self) -> str:
        return f"{self.prefix}.sink"


@contextlib.asynccontextmanager
async def broker_topology(url: str, queue_type: QueueType) -> AsyncIterator[Broker]:
    """The events exchange and one queue bound `#` (so every publish is routable), under a
    unique prefix; both deleted at the end. The queue is capped: messages nobody consumes are
    dropped from its head instead of piling up in the broker."""
    broker = Broker(url, f"bench-relay-{os.getpid()}-{uuid.uuid4().hex[:6]}", queue_type)
    arguments: dict[str, Any] = {"x-max-length": 20_000}
    if queue_type == "quorum":
        arguments["x-queue-type"] = "quorum"
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(broker.exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(broker.queue, durable=True, arguments=arguments)
        await queue.bind(exchange, "#")
        yield broker
    finally:
        # A fresh channel: the first one may have been closed by whatever went wrong.
        with contextlib.suppress(Exception):
            cleanup = await connection.channel()
            await cleanup.queue_delete(broker.queue)
            await cleanup.exchange_delete(broker.exchange)
        await connection.close()


def settings_for(dsn: str, broker: Broker, batch: int) -> Settings:
    return Settings(database_url=dsn, amqp_url=broker.url, amqp_prefix=broker.prefix, relay_batch_size=batch)


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


FIXTURE_ARTICLES = [fixture("article-stabschefs.de.json"), fixture("article-luxusgueter.de.json")]


def new_article(number: int) -> ArticleCreate:
    """One of the fixture articles (a long and a short one), with a title of its own."""
    given = FIXTURE_ARTICLES[number % len(FIXTURE_ARTICLES)]
    return ArticleCreate.model_validate(given | {"title": f"{given['title']} ({number})"})


def context(correlation_id: str) -> service.Context:
    return service.Context(actor=EDITOR, now=datetime.now(UTC), correlation_id=correlation_id)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of all values at or below it."""
    rank = max(1, int(-(-fraction * len(sorted_values) // 1)))
    return sorted_values[rank - 1]


# --- 1. throughput ------------------------------------------------------------------------

_TEMPLATES = """
CREATE TABLE bench_template AS
SELECT (row_number() OVER (ORDER BY sequence) - 1)::int AS k,
       event_type, article_id, article_version, correlation_id, payload
FROM outbox"""
# Copies of the template events, each with an event id of its own, in one statement.
_FILL = """
INSERT INTO outbox (event_id, event_type, article_id, article_version, correlation_id, payload, payload_bytes)
SELECT e.id, t.event_type, t.article_id, t.article_version, t.correlation_id,
       t.payload || jsonb_build_object('id', e.id::text),
       octet_length((t.payload || jsonb_build_object('id', e.id::text))::text)
FROM (SELECT g, gen_random_uuid() AS id FROM generate_series(0, $1::int - 1) AS g) AS e
JOIN bench_template AS t ON t.k = e.g % $2::int
ORDER BY e.g"""


async def make_templates(conn: asyncpg.Connection[asyncpg.Record], count: int) -> None:
    """`count` real article events, written by `service.create`, kept as templates for backlogs."""
    async with conn.transaction():
        for number in range(count):
            await service.create(conn, new_article(number), context(f"bench-template-{number}"))
    await conn.execute(_TEMPLATES)
    await conn.execute("TRUNCATE outbox")


async def fill_backlog(conn: asyncpg.Connection[asyncpg.Record], size: int, chunk: int = 10_000) -> None:
    """An outbox of exactly `size` unsent rows (the previous round's rows are gone), settled."""
    templates: int = await conn.fetchval("SELECT count(*) FROM bench_template")
    await conn.execute("TRUNCATE outbox")
    for start in range(0, size, chunk):
        await conn.execute(_FILL, min(chunk, size - start), templates)
    await conn.execute("VACUUM ANALYZE outbox")


async def baseline_publish(broker: Broker, rows: Sequence[outbox.Pending], batch: int) -> float:
    """A plain aio-pika loop: the same messages, `batch` in flight, then await. Seconds taken."""
    start = time.perf_counter()
    connection = await aio_pika.connect(broker.url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.declare_exchange(broker.exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        for first in range(0, len(rows), batch):
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            body=row.body,
                            content_type=CONTENT_TYPE,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            message_id=str(row.event_id),
                            correlation_id=row.correlation_id,
                            type=row.event_type,
                            timestamp=row.created_at,
                            app_id="cms",
                        ),
                        routing_key(row.event_type),
                        mandatory=True,
                    )
                    for row in rows[first : first + batch]
                )
            )
        return time.perf_counter() - start
    finally:
        await connection.close()


@dataclass(frozen=True)
class RelayRun:
    seconds: float
    failures: float


async def relay_drain(
    settings: Settings, conn: asyncpg.Connection[asyncpg.Record], expected: int
) -> RelayRun:
    """The real Relay, from its start until it marked all `expected` rows sent."""
    registry = CollectorRegistry()
    relay = Relay(settings, registry)
    stop = asyncio.Event()
    start = time.perf_counter()
    task = asyncio.create_task(relay.run(stop))
    try:
        # The relay counts a row as published once it is marked sent; watching the counter
        # costs nothing, polling the table would compete with the relay for the database.
        while (registry.get_sample_value("cms_relay_published_total") or 0) < expected:
            if task.done():
                raise RuntimeError("the relay stopped before the backlog was drained")
            await asyncio.sleep(0.005)
        seconds = time.perf_counter() - start
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)
    unsent = (await outbox.backlog(conn)).pending
    if unsent:
        raise RuntimeError(f"the relay counted {expected} published, but {unsent} rows are unsent")
    failures = sum(
        registry.get_sample_value("cms_relay_failures_total", {"kind": kind}) or 0
        for kind in ("database", "broker", "parked", "unexpected")
    )
    return RelayRun(seconds, failures)


async def throughput(args: argparse.Namespace, dsn: str, broker: Broker) -> None:
    settings = settings_for(dsn, broker, args.batch)
    conn = await db.connect(settings, application_name="bench-relay")
    try:
        await make_templates(conn, args.templates)
        baseline: list[float] = []
        ours: list[float] = []
        sizes: list[float] = []
        print(
            f"\nThroughput: a backlog of {args.backlog} events, batch {args.batch}, "
            f"{broker.queue_type} queue bound '#'"
        )
        # Untimed: the first publishes of a process and of a fresh queue run slower for either side.
        await fill_backlog(conn, args.warmup_backlog)
        await baseline_publish(broker, await outbox.unsent(conn, args.warmup_backlog), args.batch)
        await relay_drain(settings, conn, args.warmup_backlog)
        print(f"{'round':>5}  {'first':>8}  {'baseline msg/s':>14}  {'relay msg/s':>11}  {'ratio':>5}")
        for number in range(1, args.rounds + 1):
            await fill_backlog(conn, args.backlog)
            # The exact bodies and properties the relay is about to send.
            rows = await outbox.unsent(conn, args.backlog)
            if len(rows) != args.backlog:
                raise RuntimeError(f"backlog has {len(rows)} rows, not {args.backlog}")
            sizes.append(statistics.fmean(len(row.body) for row in rows))
            baseline_first = number % 2 == 1  # alternate which goes first
            run_seconds: dict[str, float] = {}
            for who in ("baseline", "relay") if baseline_first else ("relay", "baseline"):
                if who == "baseline":
                    run_seconds[who] = await baseline_publish(broker, rows, args.batch)
                else:
                    run = await relay_drain(settings, conn, args.backlog)
                    if run.failures:
                        print(f"  (round {number}: the relay reconnected {run.failures:.0f} time(s))")
                    run_seconds[who] = run.seconds
            baseline.append(args.backlog / run_seconds["baseline"])
            ours.append(args.backlog / run_seconds["relay"])
            first = "baseline" if baseline_first else "relay"
            print(
                f"{number:>5}  {first:>8}  {baseline[-1]:>14.0f}  {ours[-1]:>11.0f}  "
                f"{ours[-1] / baseline[-1]:>5.2f}"
            )
    finally:
        await conn.close()
    ratios = [o / b for o, b in zip(ours, baseline, strict=True)]
    ratio = statistics.median(ratios)
    print(
        f"\nmessage body: {statistics.fmean(sizes):.0f} bytes on average\n"
        f"baseline msg/s: median {statistics.median(baseline):.0f} "
        f"(range {min(baseline):.0f}-{max(baseline):.0f})\n"
        f"relay msg/s:    median {statistics.median(ours):.0f} (range {min(ours):.0f}-{max(ours):.0f})\n"
        f"relay ÷ baseline: median {ratio:.2f} (range {min(ratios):.2f}-{max(ratios):.2f}); "
        f"target >= 0.8: {'met' if ratio >= 0.8 else 'MISSED'}"
    )


# --- 2. latency ---------------------------------------------------------------------------

Key = tuple[str, int]  # (article id, version): names one event


@dataclass
class Arrivals:
    """What the consumer saw: arrival times per event."""

    times: dict[Key, list[float]] = field(default_factory=lambda: defaultdict(list))
    count: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        now = time.perf_counter()
        event = orjson.loads(message.body)
        if message.message_id != event["id"]:
            raise RuntimeError(f"message_id {message.message_id} is not the event id {event['id']}")
        self.times[(event["subject"], event["articleversion"])].append(now)
        self.count += 1
        self.changed.set()

    async def wait_for(self, keys: Sequence[Key], within: float) -> list[Key]:
        """Wait until every key arrived or `within` seconds passed; the keys still missing."""
        deadline = time.perf_counter() + within
        while missing := [key for key in keys if key not in self.times]:
            left = deadline - time.perf_counter()
            if left <= 0:
                return missing
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=min(left, 0.5))
        return []


@contextlib.asynccontextmanager
async def consuming(broker: Broker) -> AsyncIterator[Arrivals]:
    arrivals = Arrivals()
    connection = await aio_pika.connect(broker.url)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=1000)
        queue: AbstractQueue = await channel.get_queue(broker.queue)
        await queue.purge()
        tag = await queue.consume(arrivals.on_message, no_ack=True)
        yield arrivals
        await queue.cancel(tag)
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def relay_process(dsn: str, broker: Broker, batch: int) -> AsyncIterator[Callable[[], str]]:
    """`cms relay` (relay, scheduler, pruner) in a process of its own; stopped by its pid."""
    env = os.environ | {
        "CMS_DATABASE_URL": dsn,
        "CMS_AMQP_URL": broker.url,
        "CMS_AMQP_PREFIX": broker.prefix,
        "CMS_RELAY_BATCH_SIZE": str(batch),
        "CMS_HOST": HOST,
        "CMS_LOG_LEVEL": "warning",
    }
    with tempfile.TemporaryFile() as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from cms.cli import main; main()",
            "relay",
            "--port",
            str(free_port()),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=errors,
        )

        def stderr_tail() -> str:
            errors.seek(0)
            return errors.read().decode(errors="replace")[-4000:]

        try:
            yield stderr_tail
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), timeout=15)
                except TimeoutError:
                    process.kill()
                    await process.wait()


@contextlib.asynccontextmanager
async def relay_inline(dsn: str, broker: Broker, batch: int) -> AsyncIterator[Callable[[], str]]:
    """The Relay as a task of this process (sharing its event loop with the writer)."""
    stop = asyncio.Event()
    task = asyncio.create_task(Relay(settings_for(dsn, broker, batch)).run(stop))
    try:
        yield lambda: ""
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Write:
    number: int
    scheduled: float
    committed: float
    key: Key


async def write_one(pool: db.Pool, number: int, scheduled: float, targets: Sequence[Article]) -> Write:
    """Even numbers create an article, odd ones edit one of `targets` (PATCH with a new lead)."""
    async with pool.acquire() as conn:
        if number % 2 == 0:
            article = await service.create(conn, new_article(number), context(f"bench-{number}"))
        else:
            target = targets[(number // 2) % len(targets)]
            changes = ArticleUpdate.model_validate({"lead": f"Update {number}: {target.lead[:500]}"})
            article = await service.update(conn, target.id, changes, None, context(f"bench-{number}"))
        committed = time.perf_counter()
    return Write(number, scheduled, committed, (str(article.id), article.version))


async def paced_writes(pool: db.Pool, rate: float, seconds: float, targets: Sequence[Article]) -> list[Write]:
    """Open loop: write number i starts at t0 + i/rate whether or not earlier ones finished."""
    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    tasks: list[asyncio.Task[Write]] = []
    for number in range(total):
        scheduled = start + number / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(write_one(pool, number, scheduled, targets)))
    return await asyncio.gather(*tasks)


async def latency(args: argparse.Namespace, dsn: str, broker: Broker) -> None:
    settings = settings_for(dsn, broker, args.batch)
    print(
        f"\nLatency: commit -> consumer, {args.rate:g} writes/s (creates and updates alternating) "
        f"for {args.duration:g} s after {args.warmup:g} s of warm-up; relay: {args.latency_relay}"
    )
    async with (
        db.create_pool(settings, application_name="bench-writer") as pool,
        consuming(broker) as arrivals,
    ):
        # Articles for the updates to edit, created before the relay starts (their events are
        # then the relay's first work, and their arrival says the relay is up).
        async with pool.acquire() as conn:
            targets = [await service.create(conn, new_article(n), context("bench-setup")) for n in range(200)]
        relay: contextlib.AbstractAsyncContextManager[Callable[[], str]]
        if args.latency_relay == "process":
            relay = relay_process(dsn, broker, args.batch)
        else:
            relay = relay_inline(dsn, broker, args.batch)
        async with relay as stderr_tail:
            missing = await arrivals.wait_for([(str(a.id), a.version) for a in targets], within=60)
            if missing:
                raise RuntimeError(
                    f"the relay did not come up ({len(missing)} events missing)\n{stderr_tail()}"
                )
            writes = await paced_writes(pool, args.rate, args.warmup + args.duration, targets)
            missing = await arrivals.wait_for([w.key for w in writes], within=30)
    measured = [w for w in writes if w.scheduled - writes[0].scheduled >= args.warmup]
    lost = {w.key for w in measured} & set(missing)
    duplicated = sum(1 for w in measured if len(arrivals.times.get(w.key, [])) > 1)
    delays = sorted(
        (arrivals.times[w.key][0] - w.committed) * 1000 for w in measured if w.key in arrivals.times
    )
    commits = sorted(w.committed for w in measured)
    write_ms = sorted((w.committed - w.scheduled) * 1000 for w in measured)
    p99 = percentile(delays, 0.99)
    print(
        f"writes measured: {len(measured)}, committed at {len(commits) / (commits[-1] - commits[0]):.0f}/s; "
        f"from its scheduled start a write took p50 {percentile(write_ms, 0.5):.1f} ms, "
        f"p99 {percentile(write_ms, 0.99):.1f} ms\n"
        f"events missing: {len(lost)}, delivered twice: {duplicated}\n"
        f"commit -> broker (ms): p50 {percentile(delays, 0.5):.1f}  p95 {percentile(delays, 0.95):.1f}  "
        f"p99 {p99:.1f}  max {delays[-1]:.1f}; target p99 <= 50 ms: {'met' if p99 <= 50 else 'MISSED'}"
    )
    if percentile(write_ms, 0.5) > 1000 / args.rate * 10:
        print("NOTE: the writer fell behind its schedule; the machine was overloaded during this run")
    if lost:
        raise RuntimeError(f"{len(lost)} committed writes never arrived")


# --- main ---------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.relay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=50_000, help="outbox rows per throughput run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of (baseline, relay), order alternating"
    )
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="relay batch = baseline in flight")
    parser.add_argument("--templates", type=int, default=100, help="real events the backlog is copied from")
    parser.add_argument("--warmup-backlog", type=int, default=5000, help="untimed run of each side first")
    parser.add_argument("--rate", type=float, default=200.0, help="writes per second for the latency run")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of measured writes")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of writes before measuring")
    parser.add_argument(
        "--latency-relay",
        choices=["process", "inline"],
        default="process",
        help="run `cms relay` as its own process (as deployed) or as a task beside the writer",
    )
    parser.add_argument("--queue-type", choices=["classic", "quorum"], default="quorum")
    parser.add_argument("--skip", choices=["throughput", "latency"], action="append", default=[])
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN, help="PostgreSQL to create the db in")
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP_URL)
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> None:
    cms_log.configure(Settings(log_level="warning", log_format="console"))
    # SIGTERM, like Ctrl-C, cancels the run, so that the cleanup below still happens.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with (
        scratch_database(args.server_dsn, "relay") as dsn,
        broker_topology(args.amqp_url, args.queue_type) as broker,
    ):
        print(f"database {urlsplit(dsn).path.lstrip('/')}, exchange {broker.exchange}; {load()}")
        if "throughput" not in args.skip:
            await throughput(args, dsn, broker)
        if "latency" not in args.skip:
            await latency(args, dsn, broker)
        print(f"\n{load()}")


def load() -> str:
    """The machine's load average: the figures above are only comparable at similar loads."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


if __name__ == "__main__":
    try:
        asyncio.run(main(parse()))
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("interrupted (what the run created has been removed)", file=sys.stderr)
        sys.exit(130)
