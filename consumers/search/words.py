"""SQL for `search.words`: the vocabulary of the published text, per configuration.

It is written as articles are indexed and never shrinks with them; so everything offered to a
reader from it (a suggestion, a "did you mean") is first checked against the documents, and a
word only an unpublished article held is never offered. Every statement is bounded: by the
words asked (at most a query's), by LIMITs, and by the search's statement timeout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from cms.platform.db import Connection
from consumers.search.variants import Word, variant_key

# The most similar words checked against the documents for each unknown word asked.
CLOSEST_CHECKED = 10

# How a known word takes a new sighting: counted once more when in a headline, no longer a
# name once written in lower case; a row that would not change is not written.
_MERGE = """
ON CONFLICT (word, config) DO UPDATE
SET headlines = w.headlines + excluded.headlines, name_like = w.name_like AND excluded.name_like
WHERE excluded.headlines > 0 OR (w.name_like AND NOT excluded.name_like)"""

# A document's words, in one statement: new ones added; of the known ones, those of its title
# and lead ($6) counted once more, and those it writes in lower case no longer taken for names.
# One statement that takes its rows in word order: two articles indexed at once (the consumer
# applies several events concurrently) wait for each other on a common word, never deadlock,
# which two statements (new words, then counts) could, each holding what the other needs next.
# A known word that would not change (most of an article's: neither in its headline nor newly
# in lower case) is left out before the insert, as the snapshot sees it: ON CONFLICT DO UPDATE
# locks every row it meets, even when its WHERE changes nothing (p50 5.0 → 4.4 ms an article,
# 4.0 → 3.7 ms in a second round, over a mature vocabulary; bench/README.md, "Rebuilding the
# search index").
# A word that another article adds meanwhile is absent from the snapshot, so it goes to
# ON CONFLICT as before.
_ADD = f"""
INSERT INTO search.words AS w (word, config, spelling, variant_key, name_like, headlines)
SELECT n.word, $1::regconfig, n.spelling, n.variant_key, n.name_like, n.headline::integer
FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[], $6::boolean[])
     AS n(word, spelling, variant_key, name_like, headline)
WHERE n.headline OR NOT EXISTS (
    SELECT FROM search.words k
    WHERE k.word = n.word AND k.config = $1::regconfig AND (n.name_like OR NOT k.name_like)
)
ORDER BY n.word{_MERGE}"""

# Many configurations' words at once, each (word, config) once with its count of headlines,
# into `table` (search.words or a rebuild's copy of it), merged into known words as _ADD does.
_ADD_MANY = f"""
INSERT INTO {{table}} AS w (word, config, spelling, variant_key, name_like, headlines)
SELECT n.word, n.config::regconfig, n.spelling, n.variant_key, n.name_like, n.headlines
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::integer[])
     AS n(word, config, spelling, variant_key, name_like, headlines)
ORDER BY n.word, n.config{_MERGE}"""

# Each asked word's variants: indexed words of the same key, name-like both (a name is written
# with a capital: `Wein` and `vein` share a key, but `vein` is no name), the most frequent in
# headlines first, at most $4 per word.
_VARIANTS = """
SELECT a.word AS asked, v.spelling AS variant
FROM unnest($1::text[], $2::text[]) AS a(word, variant_key)
CROSS JOIN LATERAL (
    SELECT min(w.spelling) AS spelling, max(w.headlines) AS headlines
    FROM search.words w
    WHERE w.variant_key = a.variant_key AND w.word <> a.word AND w.name_like
      AND ($3::regconfig IS NULL OR w.config = $3::regconfig)
    GROUP BY w.word
    ORDER BY max(w.headlines) DESC, w.word
    LIMIT $4
) v
WHERE NOT EXISTS (SELECT 1 FROM search.words x
                  WHERE x.word >= a.word AND x.word <= a.word AND NOT x.name_like)"""

# For each asked word the index does not know, the most similar known word (trigram
# similarity at least the transaction's pg_trgm.similarity_threshold, by the GIN index) that a
# document still holds: the $3 most similar are checked, the best that passes is taken. The
# word is looked up as a range, not `=`: for `=` the planner may take the trigram index
# (which supports it, at 6 ms a probe) over the primary key (0.05 ms).
_CLOSEST = """
SELECT a.word AS asked, c.spelling
FROM unnest($1::text[]) WITH ORDINALITY AS a(word, n)
CROSS JOIN LATERAL (
    SELECT s.spelling FROM (
        SELECT w.word, w.config, w.spelling, w.headlines, similarity(w.word, a.word) AS similarity
        FROM search.words w
        WHERE w.word % a.word AND ($2::regconfig IS NULL OR w.config = $2::regconfig)
        ORDER BY similarity DESC, w.headlines DESC, w.word
        LIMIT $3
    ) s
    WHERE EXISTS (SELECT 1 FROM search.documents d
                  WHERE d.config = s.config AND d.tsv @@ plainto_tsquery(s.config, s.spelling))
    ORDER BY s.similarity DESC, s.headlines DESC, s.word
    LIMIT 1
) c
WHERE NOT EXISTS (SELECT 1 FROM search.words x WHERE x.word >= a.word AND x.word <= a.word)
ORDER BY a.n"""

# Completions of a prefix: the first $3 known words in `C` order (a range scan of the primary
# key), the most frequent in headlines first, each checked against the documents.
_COMPLETIONS = """
WITH prefixed AS (
    SELECT w.word, w.config, w.spelling, w.headlines FROM search.words w
    WHERE w.word >= $1 AND w.word < $1 || chr(1114111)
      AND ($2::regconfig IS NULL OR w.config = $2::regconfig)
    ORDER BY w.word LIMIT $3
), ranked AS (
    SELECT DISTINCT ON (p.word) p.word, p.config, p.spelling, p.headlines FROM prefixed p
    ORDER BY p.word, p.headlines DESC
)
SELECT r.spelling FROM (SELECT * FROM ranked ORDER BY headlines DESC, length(word), word LIMIT $5) r
WHERE EXISTS (SELECT 1 FROM search.documents d
              WHERE d.config = r.config AND d.tsv @@ plainto_tsquery(r.config, r.spelling))
LIMIT $4"""


async def add(conn: Connection, config: str, words: Sequence[Word], headline: Sequence[Word]) -> None:
    """Record a document's words (its title and lead words counted for suggestions)."""
    if not words:
        return
    in_headline = {w.word for w in headline}
    await conn.execute(
        _ADD,
        config,
        [w.word for w in words],
        [w.spelling for w in words],
        [variant_key(w.word) for w in words],
        [w.capitalised for w in words],
        [w.word in in_headline for w in words],
    )


class Columns(NamedTuple):
    words: list[str]
    configs: list[str]
    spellings: list[str]
    name_like: list[bool]
    headlines: list[int]


@dataclass(slots=True)
class Counted:
    spelling: str  # as first written
    name_like: bool
    headlines: int


class Vocabulary:
    """The words of many documents, gathered in memory and written at once (a rebuild writes
    its vocabulary once, at the end, instead of a statement per article)."""

    def __init__(self) -> None:
        self.words: dict[tuple[str, str], Counted] = {}

    def __len__(self) -> int:
        return len(self.words)

    def columns(self) -> Columns:
        """The words as columns of plain values: what a rebuild's reader process sends for a
        batch (tens of thousands of dataclasses took longer to pickle than to count)."""
        counted = self.words.values()
        return Columns(
            [word for word, _ in self.words],
            [config for _, config in self.words],
            [c.spelling for c in counted],
            [c.name_like for c in counted],
            [c.headlines for c in counted],
        )

    def merge(self, other: Columns) -> None:
        """`other`'s words into these (a spelling already here is kept)."""
        for word, config, spelling, name_like, headlines in zip(*other, strict=True):
            ours = self.words.get((word, config))
            if ours is None:
                self.words[word, config] = Counted(spelling, name_like, headlines)
            else:
                ours.name_like = ours.name_like and name_like
                ours.headlines += headlines

    def add(self, config: str, words: Sequence[Word], headline: Sequence[Word]) -> None:
        in_headline = {w.word for w in headline}
        for w in words:
            counted = self.words.get((w.word, config))
            if counted is None:
                self.words[w.word, config] = Counted(w.spelling, w.capitalised, int(w.word in in_headline))
            else:
                counted.name_like = counted.name_like and w.capitalised
                counted.headlines += w.word in in_headline


async def add_many(conn: Connection, table: str, vocabulary: Vocabulary, chunk: int = 50_000) -> None:
    """The gathered words into `table`, `chunk` at a time."""
    items = list(vocabulary.words.items())
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        await conn.execute(
            _ADD_MANY.format(table=table),
            [word for (word, _), _ in part],
            [config for (_, config), _ in part],
            [c.spelling for _, c in part],
            [variant_key(word) for (word, _), _ in part],
            [c.name_like for _, c in part],
            [c.headlines for _, c in part],
        )


@dataclass(frozen=True)
class Variant:
    asked: str
    variant: str


async def variants(
    conn: Connection, asked: Sequence[str], config: str | None, per_word: int
) -> list[Variant]:
    """Indexed spellings of the asked words' names (see variants.variant_key)."""
    if not asked:
        return []
    lower = [word.lower() for word in asked]
    rows = await conn.fetch(_VARIANTS, lower, [variant_key(w) for w in lower], config, per_word)
    by_lower = dict(zip(lower, asked, strict=True))
    return [Variant(by_lower[r["asked"]], r["variant"]) for r in rows]


async def closest(
    conn: Connection, asked: Sequence[str], config: str | None, threshold: float
) -> dict[str, str]:
    """For each asked word the index does not know, the closest word it does (if any)."""
    if not asked:
        return {}
    await conn.execute("SELECT set_config('pg_trgm.similarity_threshold', $1, true)", str(threshold))
    rows = await conn.fetch(_CLOSEST, [word.lower() for word in asked], config, CLOSEST_CHECKED)
    return {r["asked"]: r["spelling"] for r in rows}


async def completions(
    conn: Connection, prefix: str, config: str | None, *, scan: int, ranked: int, limit: int
) -> list[str]:
    rows = await conn.fetch(_COMPLETIONS, prefix.lower(), config, scan, limit, ranked)
    return [r["spelling"] for r in rows]
