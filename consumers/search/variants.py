"""Spellings readers type for the same word: German umlauts written as two letters, and names
transliterated from Cyrillic the German, English or French way. Pure functions, no I/O.

Two mechanisms, each bounded:

- `umlaut_spelling` turns `ae`, `oe`, `ue` into `ä`, `ö`, `ü` (`Luxusgueter` → `Luxusgüter`), the
  rule German writes by when umlauts are missing (DIN 5007-2; Lucene's German normaliser undoes
  the same). Added to German documents and queries as a second spelling of the word, never
  instead of it: `Steuer` is not `Steür`, and keeping both costs one term.
- `variant_key` maps the spellings of one transliterated name to one key (`Schoigu`, `Shoigu`
  → `shoigu`; `Gerassimow`, `Gerasimov` → `gerasimov`). A query word is OR-ed with the
  indexed words of its key (at most a few, see words.py); the key alone never matches.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

# `ue` after q is a u and a vowel (Quelle); after another vowel it is a diphthong or two
# syllables (Feuer, Bauer, neue), never an umlaut.
_DIGRAPH = re.compile(r"(?<![qQaeiouyäöüAEIOUYÄÖÜ])([aouAOU])e")
_UMLAUT = {"a": "ä", "o": "ö", "u": "ü", "A": "Ä", "O": "Ö", "U": "Ü"}

# Transliteration of Russian and Ukrainian names, German ↔ English ↔ French, in this order (a
# rule may rely on an earlier one). Each line names a pair it unites.
_KEY_RULES = [
    (re.compile(r"ae"), "a"),  # after umlauts became a, o, u: Baerbock = Bärbock
    (re.compile(r"oe"), "o"),
    (re.compile(r"(?<![q])ue"), "u"),
    (re.compile(r"tsch|tch"), "ch"),  # Tschernobyl/Chernobyl, Tschaikowski/Tchaikovsky
    (re.compile(r"sch"), "sh"),  # Schoigu/Shoigu
    (re.compile(r"zh"), "sh"),  # Zhukov/Schukow
    (re.compile(r"kh"), "ch"),  # Khodorkovsky/Chodorkowski
    (re.compile(r"ou"), "u"),  # Poutine/Putin (French)
    (re.compile(r"j"), "y"),  # Jelzin/Yeltsin, Sergej/Sergey
    (re.compile(r"w"), "v"),  # Gerassimow/Gerasimov, Wladimir/Vladimir
    (re.compile(r"ts"), "z"),  # Yeltsin/Jelzin
    (re.compile(r"z"), "s"),  # Selenskyj/Zelensky
    (re.compile(r"(?<=[bcdfghklmnprstvz])e$"), ""),  # Poutine/Putin (French)
    (re.compile(r"(?:iy|yy|ij|ii|i)$"), "y"),  # Sergei/Sergey/Sergej, Selenskyj/Zelenskyy
    (re.compile(r"(.)\1+"), r"\1"),  # Gerassimow/Gerasimov, Lawrow/Lavrov
]

# Words of the text, as PostgreSQL's parser would mostly see them: runs of letters; shorter
# ones are not worth a suggestion or a variant, longer ones are not words.
_WORD = re.compile(r"[^\W\d_]{3,40}")


# Both are pure and run for every distinct word of every indexed article (15 regular
# expressions for a key): the same words recur from article to article, so they are cached,
# which took a document's vocabulary from about 1.1 ms to a few dozen microseconds.
WORD_CACHE = 262_144


@lru_cache(maxsize=WORD_CACHE)
def umlaut_spelling(word: str) -> str | None:
    """The word with `ae`/`oe`/`ue` written as umlauts; None when it has none to write."""
    spelled = _DIGRAPH.sub(lambda m: _UMLAUT[m[1]], word)
    return None if spelled == word else spelled


def folded(word: str) -> str:
    """Lower case, accents and umlauts dropped, ß as ss: `Élysée` → `elysee`, `Güter` → `guter`."""
    decomposed = unicodedata.normalize("NFKD", word.lower().replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=WORD_CACHE)
def variant_key(word: str) -> str:
    """One key for the spellings of a transliterated name (see the rules above)."""
    key = folded(word)
    for pattern, replacement in _KEY_RULES:
        key = pattern.sub(replacement, key)
    return key


class Word(NamedTuple):
    """A word of a text: its lower case form, its spelling as written, and whether it was
    written with a capital everywhere in that text. (A tuple: a few hundred are made per
    article, and a frozen dataclass took a third of the time of reading its words.)"""

    word: str
    spelling: str
    capitalised: bool


def words_of(text: str, limit: int) -> list[Word]:
    """The distinct words of the text, in order of first appearance, at most `limit`."""
    seen: dict[str, Word] = {}
    # Each spelling once (a word recurs several times in an article), in order of appearance.
    for spelling in dict.fromkeys(_WORD.findall(text)):
        lower = spelling.lower()
        known = seen.get(lower)
        if known is None:
            if len(seen) < limit:
                seen[lower] = Word(lower, spelling, spelling[0].isupper())
        elif known.capitalised and not spelling[0].isupper():
            seen[lower] = Word(lower, known.spelling, False)
    return list(seen.values())
