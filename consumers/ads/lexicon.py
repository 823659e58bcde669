"""One language's brand-safety vocabulary, matched in time linear in the text (pure).

A term file (`data/terms/<language>.toml`) lists terms per category and kind, the idioms that
neutralise them ("war of words"), and the contexts (sport, food, ...) whose cue words show a
text is about something where some terms are that field's own words ("Schuss" in football or
in a sauce). Words are compared as Snowball stems, so inflections match ("Invasionen",
"Krieges"); in languages that write compounds as one word (German), a term or cue also matches
as the first or last part of a compound ("Kriegsbeginn", "Luftangriff").

Every lookup goes through a dict keyed by stem, by a phrase's first stem or by a compound
part, and the ignore list is one Aho-Corasick automaton: the work per word depends on the
word's length, never on how many terms the lists hold (a scan over every compound part per
word took 18 s on a 1.9 MB article and held the event loop all that time).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Generic, Literal, TypeVar

import ahocorasick  # type: ignore[import-not-found]  # C extension without stubs
from pydantic import BaseModel, ConfigDict, Field

from consumers.ads import stemming

Kind = Literal["strong", "weak", "severe"]
Category = Literal[
    "military_conflict",
    "terrorism",
    "death_and_injury",
    "crime",
    "disasters",
    "hate_speech",
    "adult",
    "drugs",
]
CATEGORIES: tuple[Category, ...] = (
    "military_conflict",
    "terrorism",
    "death_and_injury",
    "crime",
    "disasters",
    "hate_speech",
    "adult",
    "drugs",
)
# A compound part must be this long for a term to match inside a longer word, so "mine" does
# not match "Termine" and "Waffe" does not match "Waffel".
MIN_PART = 4
# Longer "words" are not words (a pasted hash, a run of letters): they are skipped, so one
# token's cost stays bounded.
MAX_WORD = 64
_TOKEN = re.compile(r"\w+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Terms(_Strict):
    strong: list[str] = []
    weak: list[str] = []
    severe: list[str] = []


class Context(_Strict):
    sections: list[str] = Field(default=[], description="article sections that are this context")
    cues: list[str] = Field(description="words that show a text is about this context")
    ambiguous: list[str] = Field(
        default=[],
        description="listed terms that are this context's own words: here they count as weak",
    )


class TermFile(_Strict):
    stemmer: str
    compounds: bool = False
    ignore: list[str] = Field(default=[], description="words containing a term that mean something else")
    idioms: list[str] = Field(default=[], description="phrases whose words are not read as terms")
    contexts: dict[str, Context] = {}
    categories: dict[Category, Terms]


@dataclass(frozen=True)
class Term:
    words: str
    stems: tuple[str, ...]
    category: Category
    kind: Kind
    # Contexts in which the term is ambiguous ("shot" in sport): there it counts as weak.
    ambiguous_in: frozenset[str] = frozenset()


T = TypeVar("T")


class Substrings(Generic[T]):
    """The strings a text contains, from any number of them, in one pass of an Aho-Corasick
    automaton (a C extension) over the text."""

    def __init__(self) -> None:
        self._needles: dict[str, list[T]] = {}
        self._automaton: Any = None  # built on first use, after the last `add`

    def add(self, needle: str, value: T) -> None:
        self._needles.setdefault(needle, []).append(value)
        self._automaton = None

    def found_in(self, text: str) -> Iterator[T]:
        if not self._needles:
            return
        if self._automaton is None:
            automaton = ahocorasick.Automaton()
            for needle, values in self._needles.items():
                automaton.add_word(needle, values)
            automaton.make_automaton()
            self._automaton = automaton
        for _end, values in self._automaton.iter(text):
            yield from values


class Index(Generic[T]):
    """Words and phrases, as stems, to what they mean: a dict per way of matching, and for
    compounds an automaton over the parts' spellings."""

    def __init__(self, compounds: bool) -> None:
        self.compounds = compounds
        self.single: dict[str, list[T]] = {}
        self.phrases: dict[str, list[tuple[tuple[str, ...], T]]] = {}  # by the first stem
        self.parts: Substrings[tuple[str, T]] = Substrings()  # folded spelling -> (stem, item)

    def add(self, written: str, stems: tuple[str, ...], item: T) -> None:
        if len(stems) > 1:
            self.phrases.setdefault(stems[0], []).append((stems, item))
            return
        self.single.setdefault(stems[0], []).append(item)
        if self.compounds and len(stems[0]) >= MIN_PART:
            self.parts.add(_fold(written), (stems[0], item))

    def word(self, token: str, stem: str) -> list[T]:
        """What one word means: its stem, else (compounds) a stem it starts or ends with."""
        exact = self.single.get(stem)
        if exact is not None or not self.compounds:
            return exact or []
        # The word must contain the term as written, so the stem "leich" (Leiche) does not find
        # "Ausgleich"; the rest must be a part of its own ("Kriegs|beginn", not "Termin|e").
        found = [
            item
            for part, item in self.parts.found_in(_fold(token))
            if len(stem) - len(part) >= MIN_PART and (stem.startswith(part) or stem.endswith(part))
        ]
        return list(dict.fromkeys(found))

    def phrases_at(self, stems: Sequence[str | None], start: int) -> list[tuple[int, T]]:
        """(length, item) of every phrase that begins at `start`."""
        first = stems[start]
        if first is None:
            return []
        return [
            (len(phrase), item)
            for phrase, item in self.phrases.get(first, ())
            if tuple(stems[start : start + len(phrase)]) == phrase
        ]


@dataclass(frozen=True)
class Cue:
    context: str
    stems: tuple[str, ...]  # "goal" and "goals" are one cue


@dataclass(frozen=True)
class _Word:
    stem: str | None  # None: too long to be a word
    terms: tuple[Term, ...]  # its strongest reading per category; none when ignored
    cues: tuple[Cue, ...]
    ignored: bool
    opens_phrase: bool  # some term, cue or idiom of several words begins with it


@dataclass(frozen=True)
class Reading:
    """What one passage says: the terms it uses (as written) and the context cues it gives."""

    hits: list[tuple[str, Term]]
    cues: set[Cue]


@dataclass
class Lexicon:
    """One language's terms, ready to match."""

    language: str
    stem: Callable[[str], str]
    ignore: Substrings[str]
    terms: Index[Term]
    idioms: Index[str] = field(init=False)
    cues: Index[Cue] = field(init=False)
    contexts: dict[str, Context] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.idioms = Index(compounds=False)
        self.cues = Index(self.terms.compounds)
        self._word = lru_cache(maxsize=65536)(self._read_word)

    @property
    def single(self) -> Mapping[str, list[Term]]:
        return self.terms.single

    @classmethod
    def build(cls, language: str, source: TermFile) -> Lexicon:
        stem = stemming.stemmer(source.stemmer)
        lexicon = cls(
            language,
            stem,
            _substrings(word.lower() for word in source.ignore),
            Index(source.compounds),
            contexts=dict(source.contexts),
        )
        ambiguous_in: dict[tuple[str, ...], set[str]] = {}
        for name, context in source.contexts.items():
            for entry in context.ambiguous:
                ambiguous_in.setdefault(lexicon.stems_of(entry), set()).add(name)
            for cue in context.cues:
                stems = lexicon.stems_of(cue)
                lexicon.cues.add(cue, stems, Cue(name, stems))
        seen: dict[tuple[tuple[str, ...], Category], Term] = {}
        for category, terms in source.categories.items():
            kinds: tuple[tuple[Kind, list[str]], ...] = (
                ("strong", terms.strong),
                ("weak", terms.weak),
                ("severe", terms.severe),
            )
            for kind, entries in kinds:
                for entry in entries:
                    stems = lexicon.stems_of(entry)
                    if not stems:
                        continue
                    known = seen.get((stems, category))
                    if known is not None and known.kind != kind:
                        raise ValueError(
                            f"{language}: {entry!r} ({kind}) and {known.words!r} ({known.kind})"
                            f" are one word to the stemmer, in {category}: list it once"
                        )
                    if known is None:
                        term = Term(entry, stems, category, kind, frozenset(ambiguous_in.get(stems, ())))
                        seen[(stems, category)] = term
                        lexicon.terms.add(entry, stems, term)
        _check(language, source, lexicon, {stems for stems, _ in seen})
        for idiom in source.idioms:
            lexicon.idioms.add(idiom, lexicon.stems_of(idiom), idiom)
        lexicon._word.cache_clear()  # words read while checking knew no idioms yet
        return lexicon

    def stems_of(self, words: str) -> tuple[str, ...]:
        return tuple(self.stem(token.lower()) for token in _TOKEN.findall(words))

    def read(self, text: str) -> Reading:
        tokens = _TOKEN.findall(text)
        words = [self._word(token) for token in tokens]
        stems = [word.stem for word in words]
        covered = [False] * len(tokens)
        for start, word in enumerate(words):
            if word.opens_phrase:
                for length, _ in self.idioms.phrases_at(stems, start):
                    covered[start : start + length] = [True] * length
        hits: list[tuple[str, Term]] = []
        cues: set[Cue] = set()
        for index, word in enumerate(words):
            cues.update(word.cues)
            if not covered[index]:
                hits += [(tokens[index], term) for term in word.terms]
            if word.opens_phrase:
                cues.update(cue for _, cue in self.cues.phrases_at(stems, index))
                hits += [
                    (" ".join(tokens[index : index + length]), term)
                    for length, term in self.terms.phrases_at(stems, index)
                    if not (word.ignored or any(covered[index : index + length]))
                ]
        return Reading(hits, cues)

    def _read_word(self, token: str) -> _Word:
        """Everything one word says on its own; cached, since news text repeats its words."""
        if len(token) > MAX_WORD:
            return _Word(None, (), (), ignored=True, opens_phrase=False)
        stem = self.stem(token.lower())
        ignored = next(self.ignore.found_in(token.lower()), None) is not None
        return _Word(
            stem,
            () if ignored else tuple(_strongest(self.terms.word(token, stem))),
            tuple(self.cues.word(token, stem)),
            ignored,
            opens_phrase=any(stem in index.phrases for index in (self.terms, self.cues, self.idioms)),
        )

    def find(self, text: str) -> list[tuple[str, Term]]:
        """(the word as written, the term it matched) for every hit in `text`."""
        return self.read(text).hits


_RANK: dict[Kind, int] = {"weak": 0, "strong": 1, "severe": 2}


def _check(language: str, source: TermFile, lexicon: Lexicon, listed: set[tuple[str, ...]]) -> None:
    """A typo in a context or an idiom would silently do nothing: refuse it instead."""
    for name, context in source.contexts.items():
        for entry in context.ambiguous:
            if lexicon.stems_of(entry) not in listed:
                raise ValueError(f"{language}: {entry!r} is ambiguous in {name} but is no listed term")
    for idiom in source.idioms:  # read before any idiom is in the index
        if not lexicon.find(idiom):
            raise ValueError(f"{language}: the idiom {idiom!r} holds no listed term: nothing to neutralise")


def _substrings(needles: Iterable[str]) -> Substrings[str]:
    found: Substrings[str] = Substrings()
    for needle in needles:
        found.add(needle, needle)
    return found


def _strongest(terms: list[Term]) -> list[Term]:
    """One hit per category for one word: its strongest reading."""
    best: dict[Category, Term] = {}
    for term in terms:
        if term.category not in best or _RANK[term.kind] > _RANK[best[term.category].kind]:
            best[term.category] = term
    return list(best.values())


def _fold(word: str) -> str:
    return word.lower().translate(_UMLAUTS)


_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
