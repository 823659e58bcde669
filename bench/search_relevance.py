"""Search relevance on the judged set (tests/search_judged.py): nDCG@10 and MRR, before (main's
analysis: PostgreSQL's configurations, the text alone) and after (matching as readers type),
in one run over one database; then the latency of "did you mean" and of suggestions over a
vocabulary grown to `--vocabulary` words.

    .venv/bin/python -m bench.search_relevance [--vocabulary 300000] [--worst 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import time
from collections.abc import Sequence

import asyncpg

from bench.common import DEFAULT_SERVER_DSN
from bench.common import scratch_database as _scratch_database
from consumers.runtime import store as runtime_store
from consumers.search import SPEC, matching, words
from consumers.search.compounds import Dictionary, Splitter
from consumers.search.settings import SearchSettings
from consumers.search.suggest_api import RANKED, SCAN
from tests import search_judged

_WORD = re.compile(r"[^\W\d_]{3,40}")


async def main(args: argparse.Namespace) -> None:
    judged_corpus = search_judged.corpus()
    async with _scratch_database(args.server_dsn, "relevance") as dsn:
        settings = SearchSettings(database_url=dsn)
        await runtime_store.prepare(settings, SPEC)
        conn = await asyncpg.connect(dsn)
        try:
            splitter = Splitter(settings.search_compound_dictionary)
            if not splitter.available:
                print(f"!! no dictionary at {settings.search_compound_dictionary}: compounds not split")
            print(f"judged set: {len(judged_corpus.documents)} articles, {len(judged_corpus.judged)} queries")
            results = {}
            splitter.parts("Sanktionspaket")  # the dictionary read before anything is timed
            articles = len(judged_corpus.documents)
            for mode in ("before", "after"):
                started = time.perf_counter()
                await search_judged.index(conn, judged_corpus.documents, mode, splitter)
                indexing = (time.perf_counter() - started) * 1000 / articles
                started = time.perf_counter()
                ranked = await search_judged.rankings(conn, judged_corpus.judged, mode, settings)
                searching = (time.perf_counter() - started) * 1000 / len(judged_corpus.judged)
                results[mode] = search_judged.scores(judged_corpus.judged, ranked)
                print(
                    f"  {mode:6}  nDCG@10 {results[mode].ndcg10:.3f}   MRR {results[mode].mrr:.3f}"
                    f"   (indexing {indexing:.2f} ms/article, search {searching:.2f} ms/query)"
                )
            print(f"  worst {args.worst} queries after (nDCG@10, before → after):")
            before = {id(j): s for j, s in results["before"].per_query}
            for judged, score in results["after"].worst(args.worst):
                lang = judged.language or "any"
                print(f"    {judged.q!r} ({lang}): {before[id(judged)]:.2f} → {score:.2f}")
            await _latency(conn, args, settings)
        finally:
            await conn.close()


async def _latency(conn: asyncpg.Connection, args: argparse.Namespace, settings: SearchSettings) -> None:
    """Did-you-mean and suggestions over the judged corpus's vocabulary plus up to
    `--vocabulary` word forms of the German dictionary (a realistic vocabulary: made-up words
    of a few syllables share so many trigrams that they make every trigram index slow)."""
    rng = random.Random(17)
    path = settings.search_compound_dictionary
    forms = sorted(w for w in Dictionary.read(path).words if _WORD.fullmatch(w)) if path else []
    made = sorted(rng.sample(forms, min(args.vocabulary, len(forms))))
    await conn.execute(
        "INSERT INTO search.words (word, config, spelling, variant_key, name_like, headlines) "
        "SELECT w, 'search.german', w, w, false, $2 * (hashtext(w) & 1023) FROM unnest($1::text[]) w "
        "ON CONFLICT DO NOTHING",
        made,
        1 if args.stale else 0,
    )
    await conn.execute("ANALYZE search.words")
    count = await conn.fetchval("SELECT count(*) FROM search.words")
    typos = ["Luxusgüterr", "Sanktionspakett", "Gerasimof", "Stahlwrek", "Bundesregirung", "Inflatoin"] + [
        w[:2] + w[3:]
        for w in rng.sample(made, 30)  # a letter left out
    ]
    prefixes = ["lu", "san", "sta", "ger", "bund", "inf", "ka", "ri", "men"]
    prefixes += [w[:3] for w in rng.sample(made, 30)]

    async def did_you_mean(q: str) -> object:
        async with conn.transaction(readonly=True):
            return await matching.did_you_mean(conn, q, None, settings.search_did_you_mean_similarity)

    async def suggest(prefix: str) -> object:
        return await words.completions(conn, prefix, None, scan=SCAN, ranked=RANKED, limit=8)

    print(f"latency over a vocabulary of {count:,} words (SQL round trips on one connection):")
    for name, call, inputs in (("did you mean", did_you_mean, typos), ("suggest", suggest, prefixes)):
        timings = await _timed(call, inputs, args.rounds)
        print(
            f"  {name:13} p50 {statistics.median(timings):.2f} ms   p99 {_p99(timings):.2f} ms"
            f"   max {max(timings):.2f} ms   ({len(timings)} calls)"
        )
    print("   e.g. did you mean:", {q: await did_you_mean(q) for q in typos[:6]})
    print("   e.g. suggest:", {p: await suggest(p) for p in prefixes[:5]})


async def _timed(call: object, inputs: Sequence[str], rounds: int) -> list[float]:
    assert callable(call)
    timings = []
    for _ in range(rounds):
        for value in inputs:
            started = time.perf_counter()
            await call(value)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN)
    parser.add_argument(
        "--vocabulary", type=int, default=300_000, help="dictionary words added for the latency part"
    )
    parser.add_argument(
        "--stale", action="store_true", help="rank the added words first: every suggestion checked fails"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worst", type=int, default=10)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
