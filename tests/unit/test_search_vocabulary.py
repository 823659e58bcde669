"""The vocabulary a rebuild gathers in memory counts as the consumer's per-article statement does."""

from __future__ import annotations

import pickle

from consumers.search.variants import words_of
from consumers.search.words import Counted, Vocabulary

ARTICLES = [
    ("Schoigu in Moskau", "Schoigu sprach in Moskau über die Armee. Die armee wartet."),
    ("Armee in Kiew", "Die Armee rückte vor. Schoigu schwieg."),
    ("Wetter", "Regen in Moskau."),
]


def _vocabulary(articles: list[tuple[str, str]]) -> Vocabulary:
    vocabulary = Vocabulary()
    for title, body in articles:
        vocabulary.add("search.german", words_of(f"{title}\n{body}", 100), words_of(title, 100))
    return vocabulary


def test_words_are_counted_once_per_article_with_headlines_and_names() -> None:
    """Headline counts add up per article; a word ever written in lower case is no name."""
    vocabulary = _vocabulary(ARTICLES)

    assert vocabulary.words["schoigu", "search.german"] == Counted("Schoigu", True, 1)
    assert vocabulary.words["moskau", "search.german"] == Counted("Moskau", True, 1)
    assert vocabulary.words["armee", "search.german"] == Counted("Armee", False, 1)
    assert vocabulary.words["regen", "search.german"] == Counted("Regen", True, 0)
    assert ("die", "search.english") not in vocabulary.words


def test_batches_merged_as_columns_count_as_one_vocabulary_would() -> None:
    """Two batches' columns, pickled as a reader process sends them, merge into the same counts."""
    whole = _vocabulary(ARTICLES)
    merged = Vocabulary()
    for part in (ARTICLES[:1], ARTICLES[1:]):
        merged.merge(pickle.loads(pickle.dumps(_vocabulary(part).columns())))  # noqa: S301 - our own bytes

    assert merged.words == whole.words
    assert len(merged) == len(whole) > 0
