"""Brand safety reads context: on a labelled set of news texts in three languages it gets the
level right at least 95 % of the time, and never lets a war or terror report pass as safe."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest

from bench.brand_safety import Evaluation, Labelled, evaluate, load_labelled
from consumers.ads import brand_safety
from consumers.ads.brand_safety import BrandSafety

TOPICS = {
    *("war", "terror", "crime", "disaster", "politics"),
    *("sport", "business", "culture", "recipes", "science"),
}


@cache
def _shipped() -> BrandSafety:
    return brand_safety.load()


@cache
def _labelled() -> tuple[Labelled, ...]:
    return tuple(load_labelled())


@cache
def _evaluation(with_sections: bool) -> Evaluation:
    return evaluate(_shipped(), list(_labelled()), with_sections)


def test_the_labelled_set_covers_every_topic_in_every_language_with_hard_cases() -> None:
    """At least 60 texts, each of the ten topics in de, en and fr, and both sides of the line."""
    texts = _labelled()
    per_language = Counter(text.language for text in texts)

    assert len(texts) >= 60
    assert set(per_language) == {"de", "en", "fr"}
    for language in per_language:
        assert {t.topic for t in texts if t.language == language} == TOPICS, language
    assert {t.level for t in texts} == {"safe", "sensitive", "unsafe"}
    # The idioms that trip keyword lists are in it, as safe texts.
    safe_words = " ".join(f"{t.title} {t.text}" for t in texts if t.level == "safe").lower().split()
    for idiom in ("shot", "schuss", "angriff", "bombenstimmung", "tue le match", "war of words", "bombe"):
        assert idiom in " ".join(safe_words), idiom


@pytest.mark.parametrize("with_sections", [True, False], ids=["with-sections", "text-alone"])
def test_the_level_is_right_for_at_least_95_percent_of_the_labelled_texts(with_sections: bool) -> None:
    """Keyword matching alone got 74.6 % here; `python -m bench.brand_safety` shows the rest."""
    evaluation = _evaluation(with_sections)
    wrong = [(v.text.id, v.got.level) for v in evaluation.wrong()]

    assert evaluation.accuracy >= 0.95, wrong
    assert not [v for v in evaluation.wrong() if v.text.level != "safe" and v.got.level == "safe"], wrong


@pytest.mark.parametrize("with_sections", [True, False], ids=["with-sections", "text-alone"])
def test_every_war_and_terror_report_is_flagged_for_its_category(with_sections: bool) -> None:
    """Reading context must never cost a real report: every one is at least sensitive, the
    graphic ones unsafe, and each is named for war or terror."""
    reports = [v for v in _evaluation(with_sections).verdicts if v.text.topic in {"war", "terror"}]

    assert len(reports) >= 20
    for verdict in reports:
        assert verdict.got.level == verdict.text.level, verdict.text.id
        assert verdict.text.category in verdict.got.categories, verdict.text.id


def test_the_sports_report_from_the_issue_is_safe() -> None:
    """ "Attack-minded United shoot down the leaders … a late shot from the edge of the box"."""
    (united,) = [t for t in _labelled() if t.id == "en-sport-united"]
    verdict = _shipped().assess(united.article())

    assert (verdict.level, verdict.categories) == ("safe", ())
    assert verdict.contexts == ("sport",)
