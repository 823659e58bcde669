"""Brand safety from the text: which sensitive categories a page touches, and how badly (pure).

Per-language term lists (`data/terms/<language>.toml`) name words per category in three kinds:
`strong` (counts on its own), `weak` (ambiguous, e.g. "Angriff" in a football report: counts
only when a strong or severe term of the same category is also present) and `severe` (graphic
or extreme: can make a page unsafe). Words are compared as Snowball stems, so inflections
match ("Invasionen", "Krieges"); in languages that write compounds as one word (German), a
term also matches as the first or last part of a compound ("Kriegsbeginn", "Luftangriff").
A hit weighs by where it stands (title > lead > body: `data/brand_safety.toml`).
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cms.events.contract import Article
from consumers.ads import stemming
from consumers.ads.text import Passage, Where, passages

DATA = Path(__file__).parent / "data"

Level = Literal["safe", "sensitive", "unsafe"]
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
_MIN_PART = 4
_TOKEN = re.compile(r"\w+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scoring(_Strict):
    where: dict[Where, float]
    kinds: dict[Kind, float]
    sensitive_at: float = Field(gt=0, description="a category's score from which it is named")
    unsafe_at: float = Field(gt=0, description="the severe terms' score from which a page is unsafe")


class Terms(_Strict):
    strong: list[str] = []
    weak: list[str] = []
    severe: list[str] = []


class TermFile(_Strict):
    stemmer: str
    compounds: bool = False
    ignore: list[str] = Field(default=[], description="words containing a term that mean something else")
    categories: dict[Category, Terms]


@dataclass(frozen=True)
class Term:
    words: str
    stems: tuple[str, ...]
    category: Category
    kind: Kind


@dataclass
class Lexicon:
    """One language's terms, ready to match."""

    language: str
    stem: Callable[[str], str]
    compounds: bool
    ignore: tuple[str, ...]
    single: dict[str, list[Term]] = field(default_factory=dict)
    phrases: list[Term] = field(default_factory=list)
    parts: list[Term] = field(default_factory=list)

    @classmethod
    def build(cls, language: str, source: TermFile) -> Lexicon:
        stem = stemming.stemmer(source.stemmer)
        lexicon = cls(language, stem, source.compounds, tuple(word.lower() for word in source.ignore))
        for category, terms in source.categories.items():
            kinds: tuple[tuple[Kind, list[str]], ...] = (
                ("strong", terms.strong),
                ("weak", terms.weak),
                ("severe", terms.severe),
            )
            for kind, entries in kinds:
                for entry in entries:
                    stems = tuple(stem(token.lower()) for token in _TOKEN.findall(entry))
                    if stems:
                        lexicon._add(Term(entry, stems, category, kind))
        return lexicon

    def _add(self, term: Term) -> None:
        known = self.phrases if len(term.stems) > 1 else self.single.get(term.stems[0], [])
        for other in known:
            if other.stems == term.stems and other.category == term.category:
                if other.kind != term.kind:
                    raise ValueError(
                        f"{self.language}: {term.words!r} ({term.kind}) and {other.words!r} ({other.kind})"
                        f" are one word to the stemmer, in {term.category}: list it once"
                    )
                break
        else:
            if len(term.stems) > 1:
                self.phrases.append(term)
                return
            self.single.setdefault(term.stems[0], []).append(term)
        # Every spelling of a stem stays a compound part ("Verteidigung" in
        # "Verteidigungsministerium", though "Verteidiger" has the same stem).
        if self.compounds and len(term.stems) == 1 and len(term.stems[0]) >= _MIN_PART:
            self.parts.append(term)

    def find(self, text: str) -> list[tuple[str, Term]]:
        """(the word as written, the term it matched) for every hit in `text`."""
        tokens = _TOKEN.findall(text)
        stems = [None if self._ignored(token) else self.stem(token.lower()) for token in tokens]
        hits: list[tuple[str, Term]] = []
        for index, stem in enumerate(stems):
            if stem is None:
                continue
            hits += [(tokens[index], term) for term in _strongest(self._terms_for(tokens[index], stem))]
            hits += [
                (" ".join(tokens[index : index + len(term.stems)]), term)
                for term in self.phrases
                if tuple(stems[index : index + len(term.stems)]) == term.stems
            ]
        return hits

    def _ignored(self, token: str) -> bool:
        lowered = token.lower()
        return any(word in lowered for word in self.ignore)

    def _terms_for(self, token: str, stem: str) -> list[Term]:
        exact = self.single.get(stem)
        if exact is not None or not self.compounds:
            return exact or []
        folded = _fold(token)
        return [term for term in self.parts if _compound_part(stem, folded, term)]


_RANK: dict[Kind, int] = {"weak": 0, "strong": 1, "severe": 2}


def _strongest(terms: list[Term]) -> list[Term]:
    """One hit per category for one word: its strongest reading."""
    best: dict[Category, Term] = {}
    for term in terms:
        if term.category not in best or _RANK[term.kind] > _RANK[best[term.category].kind]:
            best[term.category] = term
    return list(best.values())


def _compound_part(stem: str, folded: str, term: Term) -> bool:
    """German compounds: "kriegsbeginn" starts with "krieg", "luftangriffen" ends (as stems) with
    "angriff". The word must also contain the term as written, so the stem "leich" (Leiche)
    does not find "Ausgleich"."""
    part = term.stems[0]
    return (
        len(stem) - len(part) >= _MIN_PART
        and (stem.startswith(part) or stem.endswith(part))
        and _fold(term.words) in folded
    )


def _fold(word: str) -> str:
    return word.lower().translate(_UMLAUTS)


_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})


@dataclass(frozen=True)
class Assessment:
    level: Level
    categories: tuple[Category, ...]  # most prominent first
    scores: dict[Category, float]
    evidence: dict[Category, tuple[str, ...]]  # the words that matched, as written
    assessed: bool = True  # False: no term list for the language (then at least `sensitive`)


@dataclass
class _Tally:
    by_kind: dict[Kind, float] = field(default_factory=lambda: defaultdict(float))
    words: list[str] = field(default_factory=list)


class BrandSafety:
    def __init__(self, scoring: Scoring, lexicons: dict[str, Lexicon]) -> None:
        self.scoring = scoring
        self.lexicons = lexicons

    def assess(self, article: Article) -> Assessment:
        lexicon = self.lexicons.get(article.language.split("-")[0].lower())
        if lexicon is None:
            # Unassessed text is not vouched for: advertisers who want only safe pages skip it.
            return Assessment("sensitive", (), {}, {}, assessed=False)
        return self.assess_passages(lexicon, passages(article))

    def assess_passages(self, lexicon: Lexicon, texts: Iterable[Passage]) -> Assessment:
        tallies: dict[Category, _Tally] = defaultdict(_Tally)
        for passage in texts:
            weight = self.scoring.where[passage.where]
            for written, term in lexicon.find(passage.text):
                tally = tallies[term.category]
                tally.by_kind[term.kind] += weight
                tally.words.append(written)
        return self._judge(tallies)

    def _judge(self, tallies: dict[Category, _Tally]) -> Assessment:
        kinds = self.scoring.kinds
        scores: dict[Category, float] = {}
        severe = 0.0
        for category, tally in tallies.items():
            decisive = tally.by_kind["strong"] * kinds["strong"] + tally.by_kind["severe"] * kinds["severe"]
            if decisive:  # weak terms alone say nothing: "Angriff" in a match report
                scores[category] = round(decisive + tally.by_kind["weak"] * kinds["weak"], 2)
            severe = max(severe, tally.by_kind["severe"] * kinds["severe"])
        named = sorted(
            (c for c, score in scores.items() if score >= self.scoring.sensitive_at),
            key=lambda c: (-scores[c], CATEGORIES.index(c)),
        )
        level: Level = "unsafe" if severe >= self.scoring.unsafe_at else "sensitive" if named else "safe"
        evidence = {c: tuple(dict.fromkeys(tallies[c].words)) for c in named}
        return Assessment(level, tuple(named), scores, evidence)


def load(directory: Path = DATA) -> BrandSafety:
    with (directory / "brand_safety.toml").open("rb") as file:
        scoring = Scoring.model_validate(tomllib.load(file))
    lexicons = {}
    for path in sorted((directory / "terms").glob("*.toml")):
        with path.open("rb") as file:
            lexicons[path.stem] = Lexicon.build(path.stem, TermFile.model_validate(tomllib.load(file)))
    return BrandSafety(scoring, lexicons)
