"""Make the article's ad slots match the article as of the event's version."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from cms.events.contract import ArticleEvent, is_live
from cms.platform.db import Connection
from consumers.ads import brand_safety, config, store
from consumers.ads.page import page_of
from consumers.ads.settings import AdsSettings
from consumers.runtime.offload import Offload

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Rules:
    config: config.AdsConfig
    brand_safety: brand_safety.BrandSafety


def rules(settings: AdsSettings) -> Rules:
    """The layout from `CMS_ADS_LAYOUT_FILE` (or the shipped default) and the term lists."""
    return Rules(config.load(settings.ads_layout_file), brand_safety.load())


class Ads:
    """The consumer's wiring: its rules, and the worker thread that computes pages off the
    event loop."""

    def __init__(self, rules: Rules, offload: Offload | None = None) -> None:
        self.rules = rules
        # One worker: a page is pure Python, more threads would only share one GIL.
        self.offload = offload or Offload("ads", workers=1)

    async def apply(self, conn: Connection, event: ArticleEvent) -> None:
        """Published: the page's slots are (re)computed and active. Anything else (unpublished,
        deleted, back to draft, scheduled): the article's slots go inactive, keeping their ids."""
        if not is_live(event.data):
            await store.retire(conn, event.data.id, event.data.version)
            return
        # Brand safety reads every word: a 2 MB article takes a while, and the loop that runs
        # this also answers /healthz and (under `cms up`) every request.
        page = await self.offload.run(page_of, event.data, self.rules.config, self.rules.brand_safety)
        await store.save_page(conn, page)
        log.info(
            "ads.slots_saved",
            slots=len(page.slots),
            brand_safety=page.safety.level,
            categories=list(page.safety.categories),
        )
