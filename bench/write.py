"""Write benchmark: `POST /v1/admin/articles` of our app against the same statements via asyncpg.

    python -m bench.write [--duration 2] [--connections 16] [--rounds 12] [--client auto|wrk|python]

Ours: our app in a uvicorn process (one worker), driven over HTTP with a Bearer token made
by cms.platform.tokens.create; every request creates a new draft from the fixture article (its title
numbered, so that each one gets a slug of its own).

Baseline: no HTTP, no validation, no models: N tasks (N = --connections) on a pool of the
same size, each in a loop doing per article exactly the statements the create path runs,
with the SQL imported from the store modules: the token lookup, then in one transaction
the INSERTs into articles, article_revisions and outbox, with the same values.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx2
import orjson

from bench import load
from bench.common import (
    Measurement,
    Rounds,
    Server,
    check_no_failures,
    common_arguments,
    describe,
    fixture,
    report,
    run,
    scratch_database,
    server,
    with_cpu,
)
from cms.articles import revisions, store, workflow
from cms.articles.model import ArticleCreate
from cms.articles.text import slug_from_title
from cms.events import outbox
from cms.events.contract import envelope
from cms.platform import tokens
from cms.settings import Settings

TARGET = 0.5
_NUMBER = "@@N@@"  # where each request's number goes in the title
_ARTICLE = "article-stabschefs.de.json"


def _title(number: str) -> str:
    return f"{number} {fixture(_ARTICLE)['title']}"


def _request(secret: str) -> load.Request:
    body = orjson.dumps({**fixture(_ARTICLE), "title": _title(_NUMBER)})
    before, after = body.split(_NUMBER.encode())
    return load.Request(
        "POST",
        "/v1/admin/articles",
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        body_parts=(before, after),
        expect=201,
    )


class Baseline:
    """The create path's statements straight through asyncpg, values prepared once."""

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record], secret: str, actor: str) -> None:
        self.pool = pool
        self.secret = secret
        self.actor = actor
        # One article as the service would build it; each insert changes only what must differ.
        fields = ArticleCreate.model_validate(fixture(_ARTICLE))
        given = fields.model_dump(exclude={"body"}) | {"body": fields.body, "slug": "template"}
        self.article = workflow.new_draft(given, article_id=uuid.uuid4(), owner=actor, now=datetime.now(UTC))
        self.slug = slug_from_title(self.article.title)
        self.row = store._row_of(self.article)
        self.columns = {name: i for i, name in enumerate(store._FIELDS)}
        self.snapshot = self.article.model_dump(mode="json")
        self.event = envelope("created", self.article, event_id=uuid.uuid4(), time=datetime.now(UTC))

    async def create(self, number: str) -> None:
        article_id, event_id, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
        title = _title(number)
        slug = f"{number.lower()}-{self.slug}"  # what slug_from_title(title) makes, without its cost
        row = list(self.row)
        for name, value in (
            ("id", article_id),
            ("slug", slug),
            ("title", title),
            ("created_at", now),
            ("updated_at", now),
        ):
            row[self.columns[name]] = value
        stamp = now.isoformat().replace("+00:00", "Z")
        snapshot = self.snapshot | {
            "id": str(article_id),
            "slug": slug,
            "title": title,
            "created_at": stamp,
            "updated_at": stamp,
        }
        event = self.event | {
            "id": str(event_id),
            "subject": str(article_id),
            "time": stamp,
            "data": snapshot,
        }
        async with self.pool.acquire() as conn:
            found = await conn.fetchrow(tokens._FIND, hashlib.sha256(self.secret.encode()).digest())
            if found is None or found["revoked_at"] is not None:
                raise RuntimeError("the token was not found")
            async with conn.transaction():
                if await conn.fetchval(store._INSERT, *row) is None:
                    raise RuntimeError(f"the slug {slug} was taken")
                await conn.execute(revisions._INSERT, article_id, 1, "create", self.actor, now, snapshot)
                await conn.execute(
                    outbox._INSERT, event_id, event["type"], article_id, 1, uuid.uuid4().hex, event
                )

    async def measure(self, *, connections: int, seconds: float, tag: str) -> Measurement:
        counter = itertools.count(1)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        done = [0]

        async def worker() -> None:
            while True:
                await self.create(f"{tag}-{next(counter)}")
                if loop.time() > deadline:
                    return
                done[0] += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        return Measurement(requests=done[0], seconds=seconds, failures=0)


async def _init(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    await conn.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads
    )


async def _reset(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def _one_request(ours: Server, request: load.Request) -> None:
    """One request as the load generator sends it must create an article, or nothing counts."""
    async with httpx2.AsyncClient(base_url=ours.base_url) as client:
        answer = await client.post(request.path, headers=request.headers, content=request.body("check-1"))
    if answer.status_code != request.expect:
        raise RuntimeError(f"ours answered {answer.status_code}: {answer.text[:500]}\n{ours.stderr_tail()}")


async def _counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("articles", "article_revisions", "outbox")
        }
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    common_arguments(parser, duration=2.0, connections=16)
    args = parser.parse_args()
    client = load.pick_client(args.client)
    settings = Settings(database_url="postgresql:///unused")

    async with scratch_database(args.server_dsn, "write") as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            author = await tokens.create(conn, name="bench-author", role="author")
        finally:
            await conn.close()
        request = _request(author.token)
        async with (
            server("cms", dsn, "/healthz") as ours,
            asyncpg.create_pool(
                dsn,
                min_size=settings.pool_min_size,
                max_size=settings.pool_max_size,
                init=_init,
                reset=_reset,
            ) as pool,
        ):
            baseline = Baseline(pool, author.token, author.name)
            await _one_request(ours, request)

            async def measure(side: Server | Baseline, seconds: float, tag: str) -> Measurement:
                if isinstance(side, Baseline):
                    return await with_cpu(
                        time.process_time,
                        side.measure(connections=args.connections, seconds=seconds, tag=f"b{tag}"),
                    )
                measured = await with_cpu(
                    side.cpu_seconds,
                    load.measure(
                        client,
                        side.port,
                        request,
                        connections=args.connections,
                        seconds=seconds,
                        tag=f"o{tag}",
                    ),
                )
                check_no_failures(f"ours {tag}", measured)
                return measured

            for side in (baseline, ours):
                await measure(side, args.warmup, "w0")
            rounds = Rounds(baseline=[], ours=[])
            for number in range(1, args.rounds + 1):
                for side, results in ((baseline, rounds.baseline), (ours, rounds.ours)):
                    if args.settle > 0:
                        await measure(side, args.settle, f"w{number}")
                    results.append(await measure(side, args.duration, f"r{number}"))
        counts = await _counts(dsn)

    report(
        "write: POST /v1/admin/articles",
        describe(client, args),
        f"{args.connections} asyncio tasks: token SELECT, then BEGIN; INSERT articles, revisions, "
        "outbox; COMMIT",
        "cms.app.create_app over HTTP: auth, validation, sanitising, models, JSON access log to /dev/null",
        rounds,
        TARGET,
    )
    _check_rows(counts)


def _check_rows(counts: dict[str, Any]) -> None:
    """Every create wrote its article, its revision and its event, whichever side made it."""
    if not counts["articles"] == counts["article_revisions"] == counts["outbox"]:
        raise RuntimeError(f"rows do not add up: {counts}")
    print(f"rows written: {counts['articles']} articles, each with its revision and outbox event")


if __name__ == "__main__":
    run(main)
