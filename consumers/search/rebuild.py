"""`cms-consumer search rebuild`: a new index built in bulk beside the live one, then put in
its place, while search goes on answering from the old one.

Through the consumer's ordinary path a resync costs a transaction per article, a tsvector
written into a GIN index without a pending list and into the RUM index, and a vocabulary
statement: about 230 articles a second. Here:

1. empty copies of the store's tables are made beside them, with primary keys only (shadow.py);
2. a queue of the rebuild's own is bound like the consumer's, exclusive (it goes with the
   command): it gets the events of `cms events resync --to <it>` and, from now on, every
   live change, so nothing published meanwhile is missed;
3. events are applied in batches, one transaction and one statement per batch for the version
   claims, the documents and the removals, `writers` batches at once, into the copies; the
   vocabulary is gathered in memory;
4. once every event of a resync run is in (its last one says how many there are), the
   vocabulary is written, every index of the live tables is built once on the copies (RUM
   and GIN first, each connection taking the next), and the copies are analysed;
5. in one transaction, the live tables locked: what is still in the queue is applied (every
   change the live consumer committed was routed to this queue before it), the copies take
   the live tables' names and the old ones are dropped. The live consumer, which ran all along,
   goes on with the new tables; its claims are the rebuild's, so it skips what is in them.

Stopped at any point before the swap, it leaves the live index as it was (its copies are
dropped; the next rebuild drops any left behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import aio_pika
import asyncpg
import structlog
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from pydantic import ValidationError

from cms.events.contract import RESYNC_LAST, RESYNC_RUN, ArticleEvent, is_live
from cms.platform import amqp, db
from cms.platform.db import Connection
from consumers.runtime import claims
from consumers.runtime.claims import Claim
from consumers.search import shadow, store, words
from consumers.search.additions import additions_of
from consumers.search.compounds import Splitter
from consumers.search.document import document_of
from consumers.search.settings import SearchSettings

log = structlog.get_logger(__name__)

Say = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    batch_size: int = 500
    readers: int = 2  # batches read at once, each in a process of its own
    writers: int = 2  # batches written at once, each on its own connection
    index_memory: str = "512MB"  # maintenance_work_mem while building the indexes
    lock_wait: timedelta = timedelta(seconds=5)  # at most this long, searches wait for the swap
    swap_attempts: int = 12
    report_every: float = 5.0


@dataclass
class Outcome:
    """What the rebuild did, and when (seconds from the start of the resync's first event)."""

    queue: str = ""
    received: int = 0
    indexed: int = 0
    removed: int = 0
    stale: int = 0  # older than a version already applied
    truncated: int = 0
    failed: list[str] = field(default_factory=list)  # message ids, with the reason
    settled: Counter[str] = field(default_factory=Counter)  # resync run → its events applied
    expected: dict[str, int] = field(default_factory=dict)  # resync run → how many it sent
    first_event: float | None = None
    filled_after: float | None = None
    searchable_after: float | None = None
    vocabulary: int = 0
    # Where the time went, in seconds: reading events into documents (CPU, in a thread), and
    # writing batches (summed over the writers).
    reading: float = 0.0
    writing: float = 0.0

    def complete_run(self) -> str | None:
        return next((run for run, total in self.expected.items() if self.settled[run] >= total), None)

    def since_first(self) -> float:
        return 0.0 if self.first_event is None else time.perf_counter() - self.first_event


@dataclass
class Read:
    """A batch of event bodies read into what the writers need: the version claims, a staged
    row (store.staged_row) for each live article, the live articles' words. Made in a reader
    process: parsing, plain text and compound splitting are most of a rebuild's CPU."""

    claims: list[Claim]
    rows: dict[uuid.UUID, tuple[object, ...]]  # event id → its document's row
    vocabulary: words.Columns
    invalid: list[tuple[int, str]]  # position in the batch, what is wrong


def read(bodies: Sequence[bytes], splitter: Splitter) -> Read:
    """Pure CPU: run it in a reader process (or, for a few events, anywhere)."""
    batch = Read([], {}, words.Vocabulary().columns(), [])
    vocabulary = words.Vocabulary()
    for position, body in enumerate(bodies):
        try:
            event = ArticleEvent.model_validate_json(body)
        except ValidationError as exc:
            batch.invalid.append((position, f"invalid event ({exc.error_count()} errors)"))
            continue
        batch.claims.append(Claim(event.data.id, event.articleversion, event.id))
        if is_live(event.data):
            document = document_of(event.data)
            added = additions_of(document, splitter)
            batch.rows[event.id] = store.staged_row(document, added.extra)
            # Counted before the claims decide: an article changed during the rebuild may
            # count twice in its words' headline counts, which only order suggestions.
            vocabulary.add(document.config, added.words, added.headline)
    batch.vocabulary = vocabulary.columns()
    return batch


# The reader processes' splitter: each process reads the dictionary once, at its start.
_reader_splitter: Splitter | None = None


def _start_reader(dictionary: Path | None) -> None:
    global _reader_splitter
    _reader_splitter = Splitter(dictionary)


def _read_in_reader(bodies: list[bytes]) -> Read:
    assert _reader_splitter is not None, "a reader process starts with _start_reader"
    return read(bodies, _reader_splitter)


@dataclass
class Batch:
    messages: list[AbstractIncomingMessage]
    read: Read


async def apply(conn: Connection, batch: Read, tables: shadow.Tables) -> tuple[list[Claim], int]:
    """The batch's newest event of each article that the copy's claims take, applied; in a
    transaction (a savepoint when one is open). The events applied, and how many documents
    were too long and are indexed in part."""
    async with conn.transaction():
        claimed = await claims.claim_many(conn, tables.claims, batch.claims)
        live = [batch.rows[c.event_id] for c in claimed if c.event_id in batch.rows]
        truncated = await store.upsert_many(conn, tables.documents, live)
        gone = [c.article_id for c in claimed if c.event_id not in batch.rows]
        await store.remove_many(conn, tables.documents, gone)
    return claimed, truncated


class Rebuild:
    def __init__(
        self, settings: SearchSettings, dsn: str, splitter: Splitter, options: Options, say: Say
    ) -> None:
        self.settings = settings
        self.dsn = dsn
        self.splitter = splitter
        self.options = options
        self.say = say
        self.outcome = Outcome(queue=f"{settings.amqp_prefix}.search.rebuild")
        self.vocabulary = words.Vocabulary()
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._late: list[AbstractIncomingMessage] = []  # arrived after the fill, for the swap
        self._last_report = 0.0

    async def run(self, routing_keys: Sequence[str]) -> Outcome:
        conns = [
            await db.connect(self.settings, self.dsn, "cms-search-rebuild")
            for _ in range(self.options.writers)
        ]
        ours = swapped = False
        readers = ProcessPoolExecutor(
            self.options.readers,
            mp_context=multiprocessing.get_context("spawn"),  # not a fork of a process with a loop
            initializer=_start_reader,
            initargs=(self.settings.search_compound_dictionary,),
        )
        try:
            await shadow.claim_copies(conns[0])
            ours = True
            await shadow.create(conns[0])
            connection = await amqp.connect(self.settings.amqp_url)
            try:
                channel = await connection.channel()
                ahead = self.options.readers + self.options.writers + 1
                await channel.set_qos(prefetch_count=self.options.batch_size * ahead)
                exchange = await channel.declare_exchange(
                    self.settings.exchange, aio_pika.ExchangeType.TOPIC, durable=True
                )
                queue = await channel.declare_queue(self.outcome.queue, exclusive=True)
                for key in routing_keys:
                    await queue.bind(exchange, key)
                tag = await queue.consume(self._receive)
                self.say(f"rebuilding the search index: now run `cms events resync --to {queue.name}`")
                await self._fill(conns, readers)
                await queue.cancel(tag)
                self.outcome.filled_after = self.outcome.since_first()
                self.say(f"{self.outcome.indexed:,} articles in; building the indexes")
                built = await self._build(conns)
                await self._swap(conns[0], queue, built)
                swapped = True
                self.outcome.searchable_after = self.outcome.since_first()
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), timeout=5)
            self.say("swapped in: the new index answers searches")
            return self.outcome
        finally:
            readers.shutdown(wait=False, cancel_futures=True)
            if ours and not swapped:
                with contextlib.suppress(Exception):
                    await shadow.drop(conns[0])
            for conn in conns:
                with contextlib.suppress(Exception):
                    await conn.close()

    async def _receive(self, message: AbstractIncomingMessage) -> None:
        if self.outcome.first_event is None:
            self.outcome.first_event = time.perf_counter()
        self._inbox.put_nowait(message)

    async def _take(self) -> list[AbstractIncomingMessage]:
        """Up to a batch of what has arrived; waits a little for the first message."""
        try:
            first = await asyncio.wait_for(self._inbox.get(), timeout=0.2)
        except TimeoutError:
            return []
        taken = [first]
        while len(taken) < self.options.batch_size and not self._inbox.empty():
            taken.append(self._inbox.get_nowait())
        return taken

    async def _fill(self, conns: Sequence[Connection], readers: Executor) -> None:
        """Batches into the copies until a resync run is complete: `readers` batches read at
        once in the reader processes, `writers` written at once, each on its connection. They
        finish in any order: the claims keep the newest version of each article."""
        loop = asyncio.get_running_loop()
        free: asyncio.Queue[Connection] = asyncio.Queue()
        for conn in conns:
            free.put_nowait(conn)
        reading = asyncio.Semaphore(self.options.readers)
        handling: set[asyncio.Task[None]] = set()

        async def handle(messages: list[AbstractIncomingMessage]) -> None:
            async with reading:
                started = time.perf_counter()
                read = await loop.run_in_executor(readers, _read_in_reader, [m.body for m in messages])
                self.outcome.reading += time.perf_counter() - started
            conn = await free.get()
            try:
                await self._write(conn, Batch(messages, read))
            finally:
                free.put_nowait(conn)

        def reap() -> None:
            for task in [t for t in handling if t.done()]:
                handling.discard(task)
                task.result()  # a failure stops the rebuild

        try:
            while self.outcome.complete_run() is None:
                reap()
                messages = await self._take()
                self._report()
                if not messages:
                    continue
                handling.add(asyncio.create_task(handle(messages)))
                while len(handling) >= self.options.readers + len(conns):
                    await asyncio.wait(handling, return_when=asyncio.FIRST_COMPLETED)
                    reap()
            await asyncio.gather(*handling)
        finally:
            for task in handling:
                task.cancel()

    async def _write(self, conn: Connection, batch: Batch) -> None:
        started = time.perf_counter()
        for attempt in range(5):
            try:
                claimed, truncated = await apply(conn, batch.read, shadow.NEXT)
                break
            except asyncpg.DeadlockDetectedError:
                # Two batches with a common article, in an unlucky order: once more.
                log.warning("search.rebuild.deadlock", attempt=attempt)
        else:
            raise RuntimeError("a batch deadlocked five times")
        self.outcome.writing += time.perf_counter() - started
        self._settle(batch, claimed, truncated)
        for message in batch.messages:
            await message.ack()

    def _settle(self, batch: Batch, claimed: list[Claim], truncated: int) -> None:
        outcome, read = self.outcome, batch.read
        outcome.received += len(batch.messages)
        outcome.failed.extend(f"{batch.messages[i].message_id}: {why}" for i, why in read.invalid)
        outcome.truncated += truncated
        outcome.stale += len(read.claims) - len(claimed)
        indexed = sum(1 for c in claimed if c.event_id in read.rows)
        outcome.indexed += indexed
        outcome.removed += len(claimed) - indexed
        self.vocabulary.merge(read.vocabulary)
        for message in batch.messages:
            headers = message.headers or {}
            run, total = headers.get(RESYNC_RUN), headers.get(RESYNC_LAST)
            if isinstance(run, str):
                outcome.settled[run] += 1
                if isinstance(total, int):
                    outcome.expected[run] = total

    async def _build(self, conns: Sequence[Connection]) -> list[shadow.Index]:
        """The vocabulary written, every index of the live tables built on the copies (each
        connection takes the next as it is free, the slowest first), the copies analysed. All
        before the swap: search goes on through the old index meanwhile, never through a new
        one that lacks an index (RUM built after the swap would leave its searches without it)."""
        started = time.perf_counter()
        await words.add_many(conns[0], shadow.NEXT.words, self.vocabulary)
        self.outcome.vocabulary = len(self.vocabulary)
        self.say(f"{len(self.vocabulary):,} words written in {time.perf_counter() - started:.1f} s")
        indexes = await shadow.indexes(conns[0])
        pending = list(indexes)
        for conn in conns:
            memory = self.options.index_memory
            await conn.execute("SELECT set_config('maintenance_work_mem', $1, false)", memory)
            await conn.execute("SET statement_timeout = 0")

        async def build(conn: Connection) -> None:
            while pending:
                index = pending.pop(0)
                started = time.perf_counter()
                await conn.execute(index.statement)
                self.say(f"built {index.name} in {time.perf_counter() - started:.1f} s")

        await asyncio.gather(*(build(conn) for conn in conns))
        started = time.perf_counter()
        for table in (shadow.NEXT.documents, shadow.NEXT.words, shadow.NEXT.claims):
            await conns[0].execute(f"ANALYZE {table}")
        self.say(f"analysed in {time.perf_counter() - started:.1f} s")
        return indexes

    async def _swap(self, conn: Connection, queue: AbstractQueue, built: list[shadow.Index]) -> None:
        for attempt in range(1, self.options.swap_attempts + 1):
            try:
                await self._swap_once(conn, queue, built)
                return
            except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError) as exc:
                self.say(f"the live index is busy ({type(exc).__name__}); swap attempt {attempt} failed")
                await asyncio.sleep(min(5.0, 0.5 * attempt))
        raise RuntimeError("could not lock the live index for the swap; the live index is unchanged")

    async def _swap_once(self, conn: Connection, queue: AbstractQueue, built: list[shadow.Index]) -> None:
        # What arrived since the fill is read before the lock (the first read loads the compound
        # dictionary: most of a second), what arrives until the lock is read under it. Kept
        # across attempts: a message taken from the queue is not delivered to us again.
        await self._take_late(queue)
        early = read([m.body for m in self._late], self.splitter)
        async with conn.transaction():
            await shadow.lock_live(conn, self.options.lock_wait)
            locked = time.perf_counter()
            taken = len(self._late)
            await self._take_late(queue)
            batches = [Batch(self._late[:taken], early)]
            if len(self._late) > taken:
                since = self._late[taken:]
                batches.append(Batch(since, read([m.body for m in since], self.splitter)))
            applied = []
            for batch in batches:
                applied.append(await apply(conn, batch.read, shadow.NEXT))
                vocabulary = words.Vocabulary()
                vocabulary.merge(batch.read.vocabulary)
                await words.add_many(conn, shadow.NEXT.words, vocabulary)
            await shadow.swap(conn, built)
        held = (time.perf_counter() - locked) * 1000
        self.say(f"swapped, the live tables held for {held:.0f} ms ({len(self._late)} late events applied)")
        for batch, (claimed, truncated) in zip(batches, applied, strict=True):
            self._settle(batch, claimed, truncated)
        # Applied and committed: a failed ack only redelivers to a queue about to go.
        for message in self._late:
            with contextlib.suppress(Exception):
                await message.ack()

    async def _take_late(self, queue: AbstractQueue) -> None:
        while not self._inbox.empty():
            self._late.append(self._inbox.get_nowait())
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            self._late.append(message)

    def _report(self) -> None:
        now = time.perf_counter()
        if now - self._last_report < self.options.report_every or self.outcome.first_event is None:
            return
        self._last_report = now
        o = self.outcome
        rate = o.received / max(o.since_first(), 1e-9)
        expected = max(o.expected.values(), default=0)
        self.say(
            f"{o.received:,} events in ({rate:,.0f}/s): {o.indexed:,} indexed, {o.removed:,} removed"
            + (f", of a resync of {expected:,}" if expected else "")
        )


async def rebuild(
    settings: SearchSettings,
    dsn: str,
    routing_keys: Sequence[str],
    splitter: Splitter,
    options: Options,
    say: Say,
) -> Outcome:
    return await Rebuild(settings, dsn, splitter, options, say).run(routing_keys)


def summary(outcome: Outcome) -> str:
    def at(seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds:.1f} s"

    rate = outcome.indexed / outcome.searchable_after if outcome.searchable_after else 0.0
    return (
        f"rebuilt: {outcome.indexed:,} articles indexed, {outcome.removed:,} removed, "
        f"{outcome.stale:,} stale events skipped, {outcome.vocabulary:,} words; all in after "
        f"{at(outcome.filled_after)}, swapped in after {at(outcome.searchable_after)} "
        f"({rate:,.0f} articles/s)"
        + (f"; {outcome.truncated:,} too long, indexed in part" if outcome.truncated else "")
        + f" (reading events {outcome.reading:.1f} s, writing batches {outcome.writing:.1f} s)"
    )
