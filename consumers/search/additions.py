"""What the index adds to a document's own text so that readers find it as they type: compound
parts and umlaut spellings (German), and the words that feed suggestions. Pure, CPU-bound
(run it off the event loop): the cost grows with the number of distinct words, which is capped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from consumers.search.compounds import Splitter
from consumers.search.document import GERMAN, Document
from consumers.search.variants import WORD_CACHE, Word, umlaut_spelling, words_of

# Distinct words per document that go into the vocabulary and are tried as compounds: an
# article has a few hundred; a 2 MiB one of made-up words would otherwise cost seconds.
MAX_WORDS = 5_000
COMPOUND_MIN_CHARS = 7


@dataclass(frozen=True)
class Additions:
    extra: str  # indexed at weight D, after the text (see search.document_tsv)
    words: list[Word]  # the vocabulary of the whole text
    headline: list[Word]  # those of title and lead: what a suggestion is ranked by


def additions_of(doc: Document, splitter: Splitter) -> Additions:
    words = words_of(f"{doc.title}\n{doc.lead}\n{doc.body}", MAX_WORDS)
    headline = words_of(f"{doc.title}\n{doc.lead}", MAX_WORDS)
    extra: list[str] = []
    if doc.config == GERMAN:
        for word in words:
            extra.extend(_german_additions(word.word, splitter))
    return Additions(extra=" ".join(extra), words=words, headline=headline)


@lru_cache(maxsize=WORD_CACHE)
def _german_additions(word: str, splitter: Splitter) -> tuple[str, ...]:
    """A German word's parts (and their compound runs) and its umlaut spelling. Cached: the
    same words recur from article to article (the splitter is part of the key, by identity)."""
    added = _pieces(splitter.parts(word)) if len(word) >= COMPOUND_MIN_CHARS else []
    spelled = umlaut_spelling(word)
    return (*added, spelled) if spelled is not None else tuple(added)


def _pieces(parts: list[str]) -> list[str]:
    """The parts, and the runs of them that are compounds too: `Notstromaggregat` is found by
    `Notstrom` as well as by `Strom` and `Aggregat` (not|strom|aggregat)."""
    runs = [
        "".join(parts[start:end])
        for start in range(len(parts))
        for end in range(start + 2, len(parts) + 1)
        if end - start < len(parts)
    ]
    return parts + runs
