"""Snowball stemmers by algorithm name, behind a typed face (the library ships no types)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]  # pure Python, no stubs or py.typed


def algorithms() -> list[str]:
    names: list[str] = snowballstemmer.algorithms()
    return names


def stemmer(algorithm: str) -> Callable[[str], str]:
    """A caching stem function: news text repeats its words."""
    if algorithm not in algorithms():
        raise ValueError(f"no Snowball stemmer {algorithm!r}; known: {', '.join(algorithms())}")
    engine = snowballstemmer.stemmer(algorithm)

    @lru_cache(maxsize=65536)
    def stem(word: str) -> str:
        stemmed: str = engine.stemWord(word)
        return stemmed

    return stem
