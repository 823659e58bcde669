"""Which surrogate keys a change makes stale: a pure function of what readers saw of the
article before the change and what they see after it.

What a delivery answer names (cms/platform/cache_keys.py) decides what must go:
- its page, every list and feed page showing it and every page showing it as "see also" name
  `article:<id>`: purged on every change readers can see;
- a list or feed it enters or leaves names only the list (`list:section:<slug>`, ...): purged
  when it goes live or stops being live, and for the section, tags or language it moved
  between while live (the ones it left and the ones it joined, not those it stayed in);
- sitemaps name only `sitemap` and `list:all` and show every live article's change time.

A change readers never saw (a draft edited, a killed story edited) purges nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from cms.events.contract import Article, is_live
from cms.platform import cache_keys


@dataclass(frozen=True)
class Shown:
    """What readers see of an article at one version: whether it is live and where it is listed."""

    live: bool
    section: str | None
    tags: tuple[str, ...]
    language: str

    @classmethod
    def of(cls, article: Article) -> Shown:
        return cls(is_live(article), article.section, tuple(article.tags), article.language)

    def lists(self) -> set[str]:
        """Every list key an answer including this article may name (an unfiltered list too)."""
        found = {cache_keys.ALL, cache_keys.language_list(self.language)}
        found |= {cache_keys.section_list(self.section)} if self.section else set()
        found |= {cache_keys.tag_list(tag) for tag in self.tags}
        return found


def stale_keys(article_id: UUID, before: Shown | None, after: Shown) -> list[str]:
    """The keys to purge when the article goes from `before` to `after`, sorted. `before` is
    None when this consumer never saw the article: it may have been live anywhere `after` is
    listed, so those lists go too."""
    if before is None:
        return _sorted({cache_keys.article(article_id), cache_keys.SITEMAP, *after.lists()})
    if not before.live and not after.live:
        return []
    keys = {cache_keys.article(article_id), cache_keys.SITEMAP}
    if before.live and after.live:
        keys |= before.lists() ^ after.lists()
    else:
        keys |= (before if before.live else after).lists()
    return _sorted(keys)


def _sorted(keys: set[str]) -> list[str]:
    return sorted(keys)
