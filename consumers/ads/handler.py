"""Make the article's ad slots match the article as of the event's version."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from cms.db import Connection
from cms.events.contract import Article, ArticleEvent
from cms.settings import Settings
from consumers.ads import brand_safety, config, store
from consumers.ads.page import page_of
from consumers.runtime.offload import Offload

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Rules:
    config: config.AdsConfig
    brand_safety: brand_safety.BrandSafety


def is_live(article: Article) -> bool:
    return article.status == "published" and article.deleted_at is None and article.published_at is not None


class Ads:
    """The consumer's wiring: its rules, loaded once per process from `CMS_ADS_LAYOUT_FILE` (or
    the shipped default), and the worker thread that computes pages off the event loop."""

    def __init__(self, offload: Offload | None = None) -> None:
        self._rules: Rules | None = None
        # One worker: a page is pure Python, more threads would only share one GIL.
        self.offload = offload or Offload("ads", workers=1)

    def rules(self) -> Rules:
        if self._rules is None:
            self._rules = Rules(config.load(Settings().ads_layout_file), brand_safety.load())
        return self._rules

    async def apply(self, conn: Connection, event: ArticleEvent) -> None:
        """Published: the page's slots are (re)computed and active. Anything else (unpublished,
        deleted, back to draft, scheduled): the article's slots go inactive, keeping their ids."""
        if not is_live(event.data):
            await store.retire(conn, event.data.id, event.data.version)
            return
        current = self.rules()
        # Brand safety reads every word: a 2 MB article takes a while, and the loop that runs
        # this also answers /healthz and (under `cms up`) every request.
        page = await self.offload.run(page_of, event.data, current.config, current.brand_safety)
        await store.save_page(conn, page)
        log.info(
            "ads.slots_saved",
            slots=len(page.slots),
            brand_safety=page.safety.level,
            categories=list(page.safety.categories),
        )
