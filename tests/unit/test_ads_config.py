"""The ads configuration file: defaults, section overrides, validation; targeting and ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from consumers.ads import brand_safety, config
from consumers.ads.page import page_of, slot_id
from consumers.ads.targeting import word_bucket
from tests.unit.ads_samples import SPORT_DE, stabschefs


def test_the_shipped_layout_has_the_standard_slots() -> None:
    """The shipped layout has top, sidebar and bottom slots with the standard IAB sizes."""
    shipped = config.load().layout

    assert [(s.key, s.sizes, s.mobile_sizes) for s in shipped.slots] == [
        ("top", ["970x250", "728x90"], ["320x50"]),
        ("sidebar", ["300x250", "300x600"], []),
        ("bottom", ["728x90", "300x250"], ["300x250"]),
    ]
    assert shipped.in_article.sizes == ["300x250"]


def test_a_section_overrides_only_what_it_names() -> None:
    """A section's overrides replace only the keys it names; everything else comes from the default."""
    shipped = config.load()

    sport = shipped.layout_for("sport")
    obituaries = shipped.layout_for("obituaries")

    assert (sport.in_article.every, sport.in_article.max) == (4, 4)
    assert sport.in_article.min_words == shipped.layout.in_article.min_words
    assert sport.slots == shipped.layout.slots
    assert [s.key for s in obituaries.slots] == ["bottom"]
    assert obituaries.in_article.max == 0
    assert shipped.layout_for(None) == shipped.layout


def test_a_broken_file_is_refused_with_the_field_named(tmp_path: Path) -> None:
    """A malformed size in layout.toml is refused at load with the path to the bad field."""
    broken = tmp_path / "layout.toml"
    broken.write_text(
        config.DEFAULT_FILE.read_text(encoding="utf-8").replace('"300x600"', '"300 by 600"'),
        encoding="utf-8",
    )

    with pytest.raises(ValidationError, match=r"layout\.slots\.1\.sizes\.1"):
        config.load(broken)


def test_word_buckets() -> None:
    """Word counts fall into short, medium, long and longform at the configured thresholds."""
    targeting = config.load().targeting

    assert [word_bucket(n, targeting) for n in (0, 299, 300, 799, 800, 1500, 10_000)] == [
        "short",
        "short",
        "medium",
        "medium",
        "long",
        "longform",
        "longform",
    ]


def test_the_fixture_page_targeting() -> None:
    """The Stabschefs article gets the expected targeting keys and its four slots in page order."""
    article = stabschefs()
    page = page_of(article, config.load(), brand_safety.load())

    assert page.targeting == {
        "brand_safety": "sensitive",
        "brand_safety_categories": ["military_conflict"],
        "iab_category": "379",
        "language": "de",
        "section": "world",
        "tags": ["ukraine", "russland", "usa", "pentagon"],
        "word_count": "short",
    }
    assert [s.targeting["slot"] for s in page.slots] == ["top", "sidebar", "in-article-1", "bottom"]
    assert page.slots[0].sizes == ("970x250", "728x90", "320x50")


def test_a_sports_page_gets_the_sports_category_and_is_safe() -> None:
    """A German sports report maps to the IAB sports category and is brand-safe."""
    page = page_of(SPORT_DE, config.load(), brand_safety.load())

    assert page.targeting["iab_category"] == "483"
    assert page.targeting["brand_safety"] == "safe"
    assert page.targeting["brand_safety_categories"] == []


def test_slot_ids_are_derived_from_article_and_key() -> None:
    """A slot id is stable for one article and key and differs for another key or article."""
    article = stabschefs()

    assert slot_id(article.id, "top") == slot_id(article.id, "top")
    assert slot_id(article.id, "top") != slot_id(article.id, "bottom")
    assert slot_id(article.id, "top") != slot_id(SPORT_DE.id, "top")
