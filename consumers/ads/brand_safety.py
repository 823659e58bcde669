"""Brand safety from the text: which sensitive categories a page touches, and how badly (pure).

Per-language term lists (`data/terms/<language>.toml`, read by `lexicon`) name words per
category in three kinds: `strong` (counts on its own), `weak` (ambiguous, e.g. "Angriff" in a
football report: counts only when a strong or severe term of the same category is also present)
and `severe` (graphic or extreme: can make a page unsafe). A hit weighs by where it stands
(title > lead > body: `data/brand_safety.toml`).

Context decides what an ambiguous word means. Idioms ("war of words", "tuer le match") are not
read as terms at all. A context (sport, food, business, ...) is evident when the page's
section is one of its sections or the text gives enough of its cue words; in an evident
context, the terms listed as its own words ("shot", "Bombe", "massacre" in a 7-0 rout) count as
weak: they still add to a category that unambiguous terms make, never on their own. So a
derby's "attack" and "late shot" stay safe, and a missile on a stadium does not.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cms.events.contract import Article
from consumers.ads.lexicon import CATEGORIES, Category, Cue, Kind, Lexicon, Term, TermFile
from consumers.ads.text import Passage, Where, passages

DATA = Path(__file__).parent / "data"

Level = Literal["safe", "sensitive", "unsafe"]

__all__ = [
    "CATEGORIES",
    "Assessment",
    "BrandSafety",
    "Category",
    "Kind",
    "Level",
    "Lexicon",
    "Scoring",
    "Term",
    "TermFile",
    "load",
]


class Scoring(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    where: dict[Where, float]
    kinds: dict[Kind, float]
    sensitive_at: float = Field(gt=0, description="a category's score from which it is named")
    unsafe_at: float = Field(gt=0, description="the severe terms' score from which a page is unsafe")
    context_at: int = Field(gt=0, description="distinct cue words from which a context is evident")


@dataclass(frozen=True)
class Assessment:
    level: Level
    categories: tuple[Category, ...]  # most prominent first
    scores: dict[Category, float]
    evidence: dict[Category, tuple[str, ...]]  # the words that matched, as written
    assessed: bool = True  # False: no term list for the language (then at least `sensitive`)
    contexts: tuple[str, ...] = ()  # the contexts the page was read in (sport, food, ...)


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
        return self.assess_passages(lexicon, passages(article), section=article.section)

    def assess_passages(
        self, lexicon: Lexicon, texts: Iterable[Passage], section: str | None = None
    ) -> Assessment:
        read = [(self.scoring.where[passage.where], lexicon.read(passage.text)) for passage in texts]
        evident = self._evident(lexicon, section, set().union(*(reading.cues for _, reading in read)))
        tallies: dict[Category, _Tally] = defaultdict(_Tally)
        for weight, reading in read:
            for written, term in reading.hits:
                tally = tallies[term.category]
                tally.by_kind[_kind_in(term, evident)] += weight
                tally.words.append(written)
        return self._judge(tallies, tuple(sorted(evident)))

    def _evident(self, lexicon: Lexicon, section: str | None, cues: set[Cue]) -> set[str]:
        """The contexts the page is in: by its section, or by enough distinct cue words."""
        counts: dict[str, int] = defaultdict(int)
        for cue in cues:
            counts[cue.context] += 1
        return {
            name
            for name, context in lexicon.contexts.items()
            if section in context.sections or counts[name] >= self.scoring.context_at
        }

    def _judge(self, tallies: dict[Category, _Tally], contexts: tuple[str, ...]) -> Assessment:
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
        return Assessment(level, tuple(named), scores, evidence, contexts=contexts)


def _kind_in(term: Term, evident: set[str]) -> Kind:
    """An ambiguous term in a context where it has its harmless sense counts as weak."""
    return "weak" if term.ambiguous_in & evident else term.kind


def load(directory: Path = DATA) -> BrandSafety:
    with (directory / "brand_safety.toml").open("rb") as file:
        scoring = Scoring.model_validate(tomllib.load(file))
    lexicons = {}
    for path in sorted((directory / "terms").glob("*.toml")):
        with path.open("rb") as file:
            lexicons[path.stem] = Lexicon.build(path.stem, TermFile.model_validate(tomllib.load(file)))
    return BrandSafety(scoring, lexicons)
