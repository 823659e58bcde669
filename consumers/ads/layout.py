"""Where the ad slots of one article page go (pure: an article's blocks and a layout in,
slot placements out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cms.events.contract import Block, Heading, Paragraph
from consumers.ads.config import Layout

IN_ARTICLE = "in-article"


@dataclass(frozen=True)
class Placement:
    key: str  # stable within the article: "top", "in-article-2", ...
    position: str  # top, sidebar, in-article, bottom
    sizes: tuple[str, ...]  # on large screens
    mobile_sizes: tuple[str, ...]  # on small ones
    after_block: int | None = None  # in-article: the index of the block the slot follows


def in_article_positions(
    blocks: Sequence[Block], words: int, *, every: int, min_words: int, most: int
) -> list[int]:
    """Indexes of the blocks an in-article slot follows.

    A slot follows the paragraph that completes a run of `every` paragraphs (counted from the
    start or the previous slot); if that paragraph is followed by a heading or ends the body, the
    slot moves to the next paragraph that is not. Never after the last paragraph (so never after
    the last block either): the bottom slot follows the story."""
    paragraphs = [index for index, block in enumerate(blocks) if isinstance(block, Paragraph)]
    if words < min_words or most == 0 or not paragraphs:
        return []
    found: list[int] = []
    run = 0
    for index, block in enumerate(blocks[: paragraphs[-1]]):
        if not isinstance(block, Paragraph):
            continue
        run += 1
        if run >= every and not isinstance(blocks[index + 1], Heading):
            found.append(index)
            run = 0
            if len(found) == most:
                break
    return found


def place(blocks: Sequence[Block], words: int, layout: Layout) -> list[Placement]:
    """The page's slots in page order: top and sidebar, in-article ones, bottom."""
    fixed = [
        Placement(slot.key, slot.position, tuple(slot.sizes), tuple(slot.mobile_sizes or slot.sizes))
        for slot in layout.slots
    ]
    rules = layout.in_article
    inside = [
        Placement(f"{IN_ARTICLE}-{n}", IN_ARTICLE, tuple(rules.sizes), tuple(rules.sizes), index)
        for n, index in enumerate(
            in_article_positions(blocks, words, every=rules.every, min_words=rules.min_words, most=rules.max),
            start=1,
        )
    ]
    above = [p for p in fixed if p.position != "bottom"]
    below = [p for p in fixed if p.position == "bottom"]
    return [*above, *inside, *below]
