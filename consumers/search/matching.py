"""The query side of matching as readers type: the other spellings of the words asked, and
"did you mean" when nothing matched. Each costs a bounded lookup in the vocabulary."""

from __future__ import annotations

import re

import asyncpg

from cms.platform.db import Connection
from consumers.search import words
from consumers.search.document import GERMAN
from consumers.search.query import MAX_WORDS
from consumers.search.store import Spelling, timed_out
from consumers.search.variants import umlaut_spelling

_WORD = re.compile(r"[^\W\d_]+")
# Shorter words are not names worth a variant, nor typos worth a correction.
MIN_CHARS = 4


def asked_words(q: str) -> list[str]:
    """The distinct words of a query (not the `or` operator), at most MAX_WORDS."""
    distinct: dict[str, str] = {}
    for word in _WORD.findall(q):
        if word.lower() != "or" and len(word) >= MIN_CHARS:
            distinct.setdefault(word.lower(), word)
    return list(distinct.values())[:MAX_WORDS]


async def spellings(conn: Connection, q: str, config: str | None, per_word: int) -> list[Spelling]:
    """Umlauts for `ae`/`oe`/`ue` (German only), and the index's spellings of the names asked."""
    asked = asked_words(q)
    found = [
        Spelling(word, spelled, GERMAN)
        for word in asked
        if (config is None or config == GERMAN) and (spelled := umlaut_spelling(word)) is not None
    ]
    if per_word > 0:
        try:
            variants = await words.variants(conn, asked, config, per_word)
        except asyncpg.QueryCanceledError:
            raise timed_out() from None
        found.extend(Spelling(variant.asked, variant.variant) for variant in variants)
    return found


async def did_you_mean(conn: Connection, q: str, config: str | None, similarity: float) -> str | None:
    """The query with each word the index does not know replaced by the closest one it does;
    None when there is nothing to replace."""
    closest = await words.closest(conn, asked_words(q), config, similarity)
    if not closest:
        return None
    return _WORD.sub(lambda m: closest.get(m[0].lower(), m[0]), q)
