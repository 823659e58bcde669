"""Brand safety against a labelled set: precision and recall per level, accuracy, the confusion
matrix and every text it gets wrong.

    python -m bench.brand_safety [--set tests/data/brand_safety_labelled.toml] [--without-sections]
    python -m bench.brand_safety --timing

Each labelled text (a title and two to five sentences, see the set's header) goes through the
shipped scorer as an article with that title, the text as its one paragraph, and its section.
A non-safe text is also checked for its category: the scorer must name it. With
`--without-sections` every article goes in without a section, so only the words decide.

`--timing` instead times the scorer on 1.9 MB of German: the Stabschefs fixture's paragraphs
over and over (each copy numbered), and as many distinct made-up compounds, which no cache
helps with. The median of five runs each.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import tomllib
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

from pydantic import BaseModel, ConfigDict

from cms.events.contract import Article
from consumers.ads import brand_safety
from consumers.ads.brand_safety import Assessment, BrandSafety, Category, Level

LABELLED = Path(__file__).resolve().parents[1] / "tests" / "data" / "brand_safety_labelled.toml"
LEVELS: tuple[Level, ...] = get_args(Level)
_NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


class Labelled(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    language: str
    topic: str
    section: str
    title: str
    text: str
    level: Level
    category: Category | None = None
    hard: str | None = None

    def article(self, with_section: bool = True) -> Article:
        body = [{"type": "paragraph", "text": " ".join(self.text.split())}]
        return _article(self.id, self.language, self.title, body, self.section if with_section else None)


def _article(
    slug: str, language: str, title: str, body: list[dict[str, str]], section: str | None
) -> Article:
    return Article.model_validate(
        {
            "id": uuid.uuid5(uuid.NAMESPACE_URL, slug),
            "slug": slug,
            "language": language,
            "title": title,
            "lead": "",
            "body": body,
            "section": section,
            "tags": [],
            "authors": ["Desk"],
            "related": [],
            "status": "published",
            "publish_at": None,
            "unpublish_at": None,
            "published_at": _NOW,
            "first_published_at": _NOW,
            "created_at": _NOW,
            "updated_at": _NOW,
            "owner": "desk",
            "version": 1,
        }
    )


def load_labelled(path: Path = LABELLED) -> list[Labelled]:
    with path.open("rb") as file:
        texts = [Labelled.model_validate(entry) for entry in tomllib.load(file)["text"]]
    if len({text.id for text in texts}) != len(texts):
        raise ValueError(f"{path}: ids must be unique")
    for text in texts:
        if (text.level == "safe") != (text.category is None):
            raise ValueError(f"{text.id}: a category goes with a non-safe level, and only there")
    return texts


@dataclass(frozen=True)
class Verdict:
    text: Labelled
    got: Assessment

    @property
    def right(self) -> bool:
        return self.got.level == self.text.level

    @property
    def category_named(self) -> bool:
        return self.text.category is None or self.text.category in self.got.categories


@dataclass(frozen=True)
class Evaluation:
    verdicts: list[Verdict]

    @property
    def accuracy(self) -> float:
        return sum(v.right for v in self.verdicts) / len(self.verdicts)

    def confusion(self) -> Counter[tuple[Level, Level]]:
        """(expected, got) -> count."""
        return Counter((v.text.level, v.got.level) for v in self.verdicts)

    def precision(self, level: Level) -> float | None:
        said = [v for v in self.verdicts if v.got.level == level]
        return sum(v.right for v in said) / len(said) if said else None

    def recall(self, level: Level) -> float | None:
        meant = [v for v in self.verdicts if v.text.level == level]
        return sum(v.right for v in meant) / len(meant) if meant else None

    def wrong(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.right]

    def categories_missed(self) -> list[Verdict]:
        """Non-safe texts rated at least sensitive whose category was not named."""
        return [v for v in self.verdicts if v.got.level != "safe" and not v.category_named]


def evaluate(safety: BrandSafety, texts: list[Labelled], with_sections: bool = True) -> Evaluation:
    return Evaluation([Verdict(text, safety.assess(text.article(with_sections))) for text in texts])


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def report(evaluation: Evaluation) -> str:
    verdicts = evaluation.verdicts
    languages = Counter(v.text.language for v in verdicts)
    right = sum(v.right for v in verdicts)
    lines = [
        f"{len(verdicts)} texts ({', '.join(f'{n} {lang}' for lang, n in sorted(languages.items()))})",
        "",
        "| level | texts | precision | recall |",
        "| --- | --- | --- | --- |",
    ]
    for level in LEVELS:
        count = sum(v.text.level == level for v in verdicts)
        precision, recall = _percent(evaluation.precision(level)), _percent(evaluation.recall(level))
        lines.append(f"| {level} | {count} | {precision} | {recall} |")
    lines += ["", f"accuracy: {evaluation.accuracy:.1%} ({right} of {len(verdicts)})"]
    categorised = [v for v in verdicts if v.text.category is not None and v.got.level != "safe"]
    named = sum(v.category_named for v in categorised)
    lines.append(f"category named, of the non-safe texts rated non-safe: {named} of {len(categorised)}")
    confusion = evaluation.confusion()
    lines += ["", "confusion (rows: expected, columns: got)", "", "| | " + " | ".join(LEVELS) + " |"]
    lines.append("| --- " * (len(LEVELS) + 1) + "|")
    for expected in LEVELS:
        counts = " | ".join(str(confusion[(expected, got)]) for got in LEVELS)
        lines.append(f"| {expected} | {counts} |")
    lines += ["", "misclassified:"]
    lines += [_describe(verdict) for verdict in evaluation.wrong()] or ["  none"]
    missed = evaluation.categories_missed()
    if missed:
        lines += ["", "category not named:"]
        lines += [_describe(verdict) for verdict in missed]
    return "\n".join(lines)


def _describe(verdict: Verdict) -> str:
    text, got = verdict.text, verdict.got
    evidence = "; ".join(f"{c}: {', '.join(words)}" for c, words in got.evidence.items()) or "no evidence"
    return (
        f"  {text.id} ({text.topic}): expected {text.level}"
        f"{'/' + text.category if text.category else ''}, got {got.level}"
        f"{'/' + ','.join(got.categories) if got.categories else ''}  [{evidence}]"
        f"  read as: {', '.join(got.contexts) or 'no context'}\n"
        f"    {text.title}"
    )


def _long_article(paragraphs: list[str]) -> Article:
    body = [{"type": "paragraph", "text": text} for text in paragraphs]
    return _article("long", "de", "Chronik", body, "welt")


def _repeated_fixture(size: int) -> list[str]:
    fixture = json.loads((LABELLED.parents[1] / "fixtures" / "article-stabschefs.de.json").read_text("utf-8"))
    texts = [block["text"] for block in fixture["body"]]
    paragraphs: list[str] = []
    while sum(map(len, paragraphs)) < size:
        paragraphs.append(f"Abschnitt {len(paragraphs) + 1}: {texts[len(paragraphs) % len(texts)]}")
    return paragraphs


def _distinct_compounds(size: int) -> list[str]:
    rng = random.Random(7)
    parts = (
        "kriegs",
        "haus",
        "wasser",
        "leichen",
        "bomben",
        "angriffs",
        "schuss",
        "minister",
        "amt",
        "feuer",
    )
    words: set[str] = set()
    while sum(map(len, words)) + len(words) < size:
        words.add("".join(rng.choice(parts) for _ in range(rng.randint(2, 4))) + f"{len(words):x}")
    ordered = sorted(words)
    return [" ".join(ordered[n : n + 100]) for n in range(0, len(ordered), 100)]


def timing(size: int = 1_700_000) -> str:
    """Characters of text: with the JSON around them, about 1.9 MB of article."""
    lines = []
    for name, paragraphs in (
        ("the fixture's paragraphs, repeated", _repeated_fixture(size)),
        ("distinct compounds", _distinct_compounds(size)),
    ):
        article = _long_article(paragraphs)
        words = sum(len(text.split()) for text in paragraphs)
        runs = []
        for _ in range(5):
            fresh = brand_safety.load()  # cold caches, as after a restart
            started = time.perf_counter()
            fresh.assess(article)
            runs.append(time.perf_counter() - started)
        seconds = statistics.median(runs)
        lines.append(
            f"{name}: {len(article.model_dump_json()) / 1e6:.2f} MB, {words:,} words:"
            f" {seconds:.2f} s (median of 5; {min(runs):.2f}-{max(runs):.2f}),"
            f" {seconds / words * 1e6:.1f} µs/word"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=LABELLED, help="the labelled TOML file")
    parser.add_argument(
        "--without-sections", action="store_true", help="assess the texts without their sections"
    )
    parser.add_argument("--timing", action="store_true", help="time the scorer on 1.9 MB of German")
    options = parser.parse_args()
    if options.timing:
        print(timing())
        return
    evaluation = evaluate(brand_safety.load(), load_labelled(options.set), not options.without_sections)
    print(report(evaluation))


if __name__ == "__main__":
    main()
