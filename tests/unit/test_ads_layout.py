"""The slot layout rules, as properties over any article body and any layout."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from cms.events.contract import Block, Heading, Image, Paragraph, Quote
from consumers.ads import config, layout
from consumers.ads.config import FixedSlot, InArticle, Layout
from consumers.ads.layout import IN_ARTICLE, in_article_positions, place
from tests.unit.ads_samples import stabschefs

blocks = st.lists(
    st.sampled_from(
        [
            Paragraph(text="Absatz"),
            Paragraph(text="Noch ein Absatz"),
            Heading(text="Zwischentitel", level=2),
            Quote(text="Zitat"),
            Image(url="https://example.org/bild.jpg", alt="Bild"),
        ]
    ),
    max_size=60,
)
rules = st.builds(
    InArticle,
    every=st.integers(1, 8),
    min_words=st.integers(0, 2000),
    max=st.integers(0, 10),
    sizes=st.just(["300x250"]),
)


def _slots(body: list[Block], words: int, rule: InArticle) -> list[int]:
    return in_article_positions(body, words, every=rule.every, min_words=rule.min_words, most=rule.max)


@given(blocks, st.integers(0, 5000), rules)
def test_the_in_article_count_stays_within_its_bounds(body: list[Block], words: int, rule: InArticle) -> None:
    """For any body, in-article slots never exceed the rule's maximum or one per `every` paragraphs."""
    found = _slots(body, words, rule)
    paragraph_count = sum(isinstance(b, Paragraph) for b in body)

    assert len(found) <= rule.max
    assert len(found) <= paragraph_count // rule.every
    assert found == sorted(set(found))


@given(blocks, st.integers(0, 5000), rules)
def test_never_before_a_heading_nor_after_the_last_paragraph(
    body: list[Block], words: int, rule: InArticle
) -> None:
    """For any body, a slot follows a paragraph, never precedes a heading, never ends the article."""
    found = _slots(body, words, rule)
    last_paragraph = max((i for i, b in enumerate(body) if isinstance(b, Paragraph)), default=-1)

    for index in found:
        assert isinstance(body[index], Paragraph)
        assert index < last_paragraph < len(body)
        assert not isinstance(body[index + 1], Heading)


@given(blocks, st.integers(0, 5000), rules)
def test_each_slot_follows_at_least_k_paragraphs_since_the_previous_one(
    body: list[Block], words: int, rule: InArticle
) -> None:
    """For any body, at least `every` paragraphs separate one in-article slot from the next."""
    starts = [-1, *_slots(body, words, rule)]
    for previous, index in itertools.pairwise(starts):
        between = body[previous + 1 : index + 1]
        assert sum(isinstance(b, Paragraph) for b in between) >= rule.every


@given(blocks, rules, st.data())
def test_short_articles_get_no_in_article_slot(
    body: list[Block], rule: InArticle, data: st.DataObject
) -> None:
    """Below the rule's minimum word count an article gets no in-article slot at all."""
    words = data.draw(st.integers(0, max(0, rule.min_words - 1)))
    if rule.min_words > 0:
        assert _slots(body, words, rule) == []


@given(st.integers(1, 40))
def test_a_long_plain_article_gets_as_many_slots_as_the_rules_allow(paragraph_count: int) -> None:
    """Paragraphs alone get a slot after every third, up to the maximum, never after the last."""
    body: list[Block] = [Paragraph(text="Absatz")] * paragraph_count
    rule = InArticle(every=3, min_words=0, max=3, sizes=["300x250"])

    # After paragraphs 3, 6, 9, but never after the last one.
    assert len(_slots(body, 1000, rule)) == min(3, (paragraph_count - 1) // 3)


@given(blocks, st.integers(0, 5000))
def test_the_page_keeps_fixed_slots_in_order_around_the_in_article_ones(
    body: list[Block], words: int
) -> None:
    """Top and sidebar come first, bottom last, and numbered in-article slots between, each once."""
    shipped = config.load().layout
    placed = place(body, words, shipped)
    keys = [p.key for p in placed]

    assert keys[:2] == ["top", "sidebar"]
    assert keys[-1] == "bottom"
    assert all(key.startswith(IN_ARTICLE) for key in keys[2:-1])
    assert len(keys) == len(set(keys))
    assert keys[2:-1] == [f"{IN_ARTICLE}-{n}" for n in range(1, len(keys) - 2)]


def test_the_fixture_gets_one_in_article_slot_after_the_paragraph_that_is_not_before_a_heading() -> None:
    """Three paragraphs, then a heading (no slot there), two more paragraphs and a quote."""
    article = stabschefs()
    placed = layout.place(article.body, 212, config.load().layout_for("world"))

    assert [(p.key, p.after_block) for p in placed] == [
        ("top", None),
        ("sidebar", None),
        ("in-article-1", 4),
        ("bottom", None),
    ]


def test_a_slot_without_mobile_sizes_takes_its_sizes_on_small_screens() -> None:
    """A slot that lists no mobile sizes serves its desktop sizes on small screens too."""
    own = Layout(
        slots=[FixedSlot(key="rail", position="sidebar", sizes=["160x600"])],
        in_article=InArticle(every=2, min_words=0, max=1, sizes=["300x250"]),
    )

    [rail] = place([], 0, own)

    assert rail.mobile_sizes == ("160x600",)
