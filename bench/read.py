"""Read benchmark: `GET /v1/content/articles/{slug}` of our app against a bare endpoint.

    python -m bench.read [--duration 2] [--connections 16] [--rounds 12] [--client auto|wrk|python]

Both servers run at once (each in its own uvicorn process, one worker) on one freshly
migrated database holding the fixture article and its published "see also" article. The
runs alternate, baseline then ours, after a warm-up of each; the figure is ours ÷ baseline
(the median of the rounds).
"""

from __future__ import annotations

import argparse
from typing import Any

import asyncpg
import httpx2

from bench import load
from bench.common import (
    Measurement,
    Rounds,
    Server,
    check_no_failures,
    common_arguments,
    describe,
    fixture,
    pinning,
    report,
    run,
    scratch_database,
    server,
    with_cpu,
)
from cms.platform import tokens

TARGET = 0.6
PATH = "/v1/content/articles/{slug}?language=de"


async def _publish_fixtures(ours: Server, dsn: str) -> str:
    """The two fixture articles, in through our API and published; returns the slug to read."""
    conn = await asyncpg.connect(dsn)
    try:
        editor = await tokens.create(conn, name="bench-editor", role="editor")
    finally:
        await conn.close()
    headers = {"Authorization": f"Bearer {editor.token}"}
    async with httpx2.AsyncClient(base_url=ours.base_url, headers=headers) as api:

        async def create_published(body: dict[str, Any]) -> dict[str, Any]:
            created = await api.post("/v1/admin/articles", json=body)
            assert created.status_code == 201, created.text
            published = await api.post(f"/v1/admin/articles/{created.json()['id']}/publish")
            assert published.status_code == 200, published.text
            article: dict[str, Any] = published.json()
            return article

        related = await create_published(fixture("article-luxusgueter.de.json"))
        main = await create_published({**fixture("article-stabschefs.de.json"), "related": [related["id"]]})
    slug: str = main["slug"]
    return slug


async def _same_answer(baseline: Server, ours: Server, path: str) -> None:
    """Both sides must serve the same article, or the comparison is meaningless."""
    async with httpx2.AsyncClient() as client:
        bare = await client.get(baseline.base_url + path)
        mine = await client.get(ours.base_url + path)
    for side, answer in ((baseline, bare), (ours, mine)):
        if answer.status_code != 200:
            raise RuntimeError(f"{side.kind} answered {answer.status_code}:\n{side.stderr_tail()}")
    assert bare.json() == mine.json(), "the baseline and our app answer differently"
    assert len(mine.json()["related"]) == 1, "the related article is missing"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    common_arguments(parser, duration=2.0, connections=16)
    args = parser.parse_args()
    client = load.pick_client(args.client)
    server_cpus, client_cpus = pinning(args)

    async with (
        scratch_database(args.server_dsn, "read") as dsn,
        server("bare-read", dsn, "/v1/content/articles/none", cpus=server_cpus) as baseline,
        server("cms", dsn, "/healthz", cpus=server_cpus) as ours,
    ):
        slug = await _publish_fixtures(ours, dsn)
        path = PATH.format(slug=slug)
        await _same_answer(baseline, ours, path)
        request = load.Request("GET", path, headers={})

        async def measure(side: Server, seconds: float, tag: str) -> Measurement:
            measured = await with_cpu(
                side.cpu_seconds,
                load.measure(
                    client,
                    side.port,
                    request,
                    connections=args.connections,
                    seconds=seconds,
                    tag=tag,
                    cpus=client_cpus,
                ),
            )
            check_no_failures(f"{side.kind} {tag}", measured)
            return measured

        for side in (baseline, ours):
            await measure(side, args.warmup, "first-warmup")
        rounds = Rounds(baseline=[], ours=[])
        for number in range(1, args.rounds + 1):
            for side, results in ((baseline, rounds.baseline), (ours, rounds.ours)):
                if args.settle > 0:
                    await measure(side, args.settle, f"warmup{number}")
                results.append(await measure(side, args.duration, f"round{number}"))

    report(
        "read: GET /v1/content/articles/{slug}?language=de",
        describe(client, args),
        "bare Starlette route + asyncpg pool, the same SQL (queries.LIVE_BY_SLUG), row as JSON",
        "cms.app.create_app: middleware, metrics, JSON access log at info level to /dev/null",
        rounds,
        TARGET,
    )


if __name__ == "__main__":
    run(main)
