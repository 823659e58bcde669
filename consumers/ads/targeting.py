"""The key-values an ad server matches line items on, for one article (pure)."""

from __future__ import annotations

from cms.events.contract import Article
from consumers.ads.brand_safety import Assessment
from consumers.ads.config import Targeting

KeyValues = dict[str, str | list[str]]


def word_bucket(words: int, targeting: Targeting) -> str:
    """The last bucket whose lower bound the count reaches (they start at 0)."""
    found = targeting.word_buckets[0].name
    for bucket in targeting.word_buckets:
        if words >= bucket.min_words:
            found = bucket.name
    return found


def article_targeting(article: Article, words: int, safety: Assessment, targeting: Targeting) -> KeyValues:
    """Section, tags, language, word-count bucket, IAB content category and brand safety.
    Keys without a value (no section, no IAB id for it) are left out, as ad servers expect."""
    values: KeyValues = {
        "language": article.language,
        "tags": list(article.tags),
        "word_count": word_bucket(words, targeting),
        "brand_safety": safety.level,
        "brand_safety_categories": list(safety.categories),
    }
    if article.section is not None:
        values["section"] = article.section
        iab = targeting.iab_categories.get(article.section)
        if iab is not None:
            values["iab_category"] = iab
    return dict(sorted(values.items()))
