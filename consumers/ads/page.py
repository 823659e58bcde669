"""The ad slots one article's page offers, with their ids and targeting (pure)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cms.events.contract import Article
from consumers.ads import layout
from consumers.ads.brand_safety import Assessment, BrandSafety
from consumers.ads.config import AdsConfig
from consumers.ads.targeting import KeyValues, article_targeting
from consumers.ads.text import body_words

# Slot ids are derived, not drawn: the same article and slot key give the same id in every
# store and after every replay, so an ad server's references survive a rebuild.
SLOT_NAMESPACE = uuid.UUID("7f1c2b0e-5a8d-4f3e-9c61-0a2d4b6e8f10")


def slot_id(article_id: uuid.UUID, key: str) -> uuid.UUID:
    return uuid.uuid5(SLOT_NAMESPACE, f"{article_id}/{key}")


@dataclass(frozen=True)
class Slot:
    id: uuid.UUID
    key: str
    ordinal: int  # page order
    position: str
    sizes: tuple[str, ...]  # every size it takes: what inventory counts
    desktop_sizes: tuple[str, ...]
    mobile_sizes: tuple[str, ...]
    after_block: int | None
    targeting: KeyValues


@dataclass(frozen=True)
class Page:
    article: Article
    words: int
    safety: Assessment
    targeting: KeyValues
    slots: list[Slot]


def page_of(article: Article, config: AdsConfig, brand_safety: BrandSafety) -> Page:
    words = body_words(article)
    safety = brand_safety.assess(article)
    shared = article_targeting(article, words, safety, config.targeting)
    placements = layout.place(article.body, words, config.layout_for(article.section))
    slots = [
        Slot(
            id=slot_id(article.id, p.key),
            key=p.key,
            ordinal=n,
            position=p.position,
            sizes=tuple(dict.fromkeys(p.sizes + p.mobile_sizes)),
            desktop_sizes=p.sizes,
            mobile_sizes=p.mobile_sizes,
            after_block=p.after_block,
            targeting={**shared, "position": p.position, "slot": p.key},
        )
        for n, p in enumerate(placements)
    ]
    return Page(article, words, safety, shared, slots)
