"""The parts of German compounds (`Sanktionspaket` → `Sanktion`, `Paket`), by a dictionary.

The dictionary is a Hunspell one (Debian's `hunspell-de-de`, igerman98): its stems with the
forms their suffix rules make, about 290,000 words, read once (0.7 s, 30 MB). A compound is
split where its last part is a word and what comes before is a word, or a compound itself,
possibly with a linking element (`Sanktion|s|paket`, `Regierung|s|sprecher`): German puts the
head last, so the longest known tail is tried first.

Why not PostgreSQL's `ispell` template over the same files: it does not read this dictionary's
compound rules (COMPOUNDBEGIN/END flags, twofold suffixes), so it split none of the compounds
we tried, and it needs files placed on the database server, which managed services do not
allow. A statistical splitter from PyPI (compound-split) needs 185 MB, 5 s to import, is GPL
and split `Russland` into `Russ|land`.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path

MIN_PART = 3
MAX_WORD = 40
# Linking elements (Fugenelemente) between the parts, longest first.
_LINKS = ("ens", "es", "en", "er", "s", "n", "e", "")
# Inflection endings a tail may carry beyond the dictionary's forms.
_ENDINGS = ("", "s", "es", "n", "en", "e", "er", "ern")
_AFFIX_RULE = re.compile(r"^SFX\s+(\S)\s+(\S+)\s+(\S+)\s+(\S+)")


class Dictionary:
    """The words of a Hunspell dictionary (`.dic` with its `.aff`), lower case."""

    def __init__(self, words: frozenset[str]) -> None:
        self.words = words

    @classmethod
    def read(cls, dic: Path) -> Dictionary:
        rules = _suffix_rules(dic.with_suffix(".aff").read_text(encoding="utf-8"))
        words: set[str] = set()
        for line in dic.read_text(encoding="utf-8").splitlines()[1:]:
            if not line or line[0] in "\t#":
                continue
            stem, _, flags = line.strip().partition("/")
            words.add(stem.lower())
            for flag in flags:
                for strip, add, condition in rules.get(flag, ()):
                    if stem.endswith(strip) and (condition is None or condition.search(stem)):
                        words.add((stem[: len(stem) - len(strip)] + add).lower())
        return cls(frozenset(words))


def _suffix_rules(affixes: str) -> dict[str, list[tuple[str, str, re.Pattern[str] | None]]]:
    rules: dict[str, list[tuple[str, str, re.Pattern[str] | None]]] = {}
    for line in affixes.splitlines():
        match = _AFFIX_RULE.match(line)
        if match is None or match[2] in ("Y", "N"):  # the header line of a rule's block
            continue
        flag, strip, add, condition = match.groups()
        strip = "" if strip == "0" else strip
        add = "" if add.split("/")[0] == "0" else add.split("/")[0]
        rules.setdefault(flag, []).append(
            (strip, add, None if condition == "." else re.compile(f"(?:{condition})$"))
        )
    return rules


class Splitter:
    """Splits compounds with a dictionary read on first use, or ahead of it in the background
    (`preload`, when the consumer starts). Thread-safe: it runs in the consumer's offload
    threads."""

    def __init__(self, dic: Path | None) -> None:
        self._path = dic
        self._lock = threading.Lock()
        self._dictionary: Dictionary | None = None

    @property
    def available(self) -> bool:
        return self._path is not None and self._path.is_file()

    def preload(self) -> None:
        """Read the dictionary in a thread of its own, now, so that the first German article
        does not wait for it: a consumer started by a deploy and given publishes at once let
        them wait up to a second (0.7 s of reading, then cold caches; bench/README.md)."""
        if self._dictionary is None and self.available:
            threading.Thread(target=self._loaded, name="search-dictionary", daemon=True).start()

    def parts(self, word: str) -> list[str]:
        """The parts of a compound (lower case), or [] when it is not one we can split."""
        dictionary = self._loaded()
        if dictionary is None or not MIN_PART * 2 <= len(word) <= MAX_WORD:
            return []
        found = _split(word.lower(), dictionary.words)
        return list(found) if len(found) > 1 else []

    def _loaded(self) -> Dictionary | None:
        if self._dictionary is None and self.available:
            with self._lock:
                if self._dictionary is None and self._path is not None:
                    self._dictionary = _read(self._path)
        return self._dictionary


@lru_cache(maxsize=2)
def _read(dic: Path) -> Dictionary:
    """Once per process and file: a consumer bound again (tests, `cms up` reloads) reuses it,
    and the split cache below, keyed by its words, stays valid."""
    return Dictionary.read(dic)


def _split(word: str, words: frozenset[str]) -> tuple[str, ...]:
    return _split_cached(word, words)


@lru_cache(maxsize=65_536)
def _split_cached(word: str, words: frozenset[str]) -> tuple[str, ...]:
    """The word's parts, its longest known tail first tried; (word,) when it does not split.
    Cached: the same compounds recur from article to article (frozenset hashes once, by id)."""
    for cut in range(MIN_PART, len(word) - MIN_PART + 1):
        tail = word[cut:]
        if not _known(tail, words):
            continue
        head = word[:cut]
        for link in _LINKS:
            if not head.endswith(link) or len(head) - len(link) < MIN_PART:
                continue
            modifier = head[: len(head) - len(link)]
            if modifier in words:
                return (modifier, tail)
            inner = _split_cached(modifier, words)
            if len(inner) > 1:
                return (*inner, tail)
    return (word,)


def _known(part: str, words: frozenset[str]) -> bool:
    for ending in _ENDINGS:
        stem = part[: len(part) - len(ending)]
        if part.endswith(ending) and len(stem) >= MIN_PART and stem in words:
            return True
    return False
