"""Brand safety costs time linear in the text, whatever the size of the term lists."""

from __future__ import annotations

import time
import tomllib

from consumers.ads import brand_safety
from consumers.ads.brand_safety import Lexicon, TermFile
from tests.unit.ads_samples import distinct_german_words, long_german_article

# The shipped German list holds some hundreds of compound parts; the padded one 20 times more.
PADDING = 10_000


def _german(padding: int = 0) -> Lexicon:
    """A fresh (cold-cache) German lexicon, optionally with `padding` extra terms that never
    occur in a text."""
    with (brand_safety.DATA / "terms" / "de.toml").open("rb") as file:
        source = tomllib.load(file)
    extra = [f"Qx{n:05d}zwort" for n in range(padding)]
    source["categories"]["crime"]["weak"] = [*source["categories"]["crime"]["weak"], *extra]
    return Lexicon.build("de", TermFile.model_validate(source))


def _seconds_to_find(lexicon: Lexicon, text: str) -> float:
    started = time.perf_counter()
    lexicon.find(text)
    return time.perf_counter() - started


def test_the_cost_per_word_does_not_grow_with_the_number_of_terms() -> None:
    """Twenty times the terms, the same work per word: lookups go through indexes, not scans."""
    text = distinct_german_words(4000)
    # Best of three, each on a cold lexicon, so a busy machine's hiccup counts once at most.
    shipped = min(_seconds_to_find(_german(), text) for _ in range(3))
    padded = min(_seconds_to_find(_german(PADDING), text) for _ in range(3))

    assert _german(PADDING).find(text) == _german().find(text)  # the padding never matches
    # A scan over the compound parts takes ~20 times as long with the padded list.
    assert padded < 3 * shipped + 0.05, (padded, shipped)


def test_a_long_german_article_is_scored_in_well_under_its_old_18_seconds() -> None:
    """1.9 MB of German: a few tenths of a second here, against 8 to 18 s for the old scan."""
    article = long_german_article()
    safety = brand_safety.load()

    started = time.perf_counter()
    verdict = safety.assess(article)
    elapsed = time.perf_counter() - started

    assert len(article.model_dump_json()) > 1_800_000
    assert (verdict.level, verdict.categories[:1]) == ("sensitive", ("military_conflict",))
    # Generous: a loaded CI runner may be ten times slower than a developer's machine.
    assert elapsed < 5.0, elapsed


def test_a_run_of_letters_longer_than_any_word_is_skipped_whole() -> None:
    """A pasted 100,000-letter "word" costs nothing and matches nothing, not even "Krieg" inside."""
    lexicon = _german()
    started = time.perf_counter()
    found = lexicon.find("Kriegs" * 20_000 + " und der Krieg")
    elapsed = time.perf_counter() - started

    assert [written for written, _ in found] == ["Krieg"]
    assert elapsed < 1.0, elapsed
