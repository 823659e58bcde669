"""Make the article's ad slots match the article as of the event's version."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import structlog

from cms.events.contract import Article, ArticleEvent
from cms.platform.db import Connection
from cms.settings import Settings
from consumers.ads import brand_safety, config, store
from consumers.ads.page import page_of

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Rules:
    config: config.AdsConfig
    brand_safety: brand_safety.BrandSafety


@cache
def rules() -> Rules:
    """Loaded once per process from `CMS_ADS_LAYOUT_FILE` (or the shipped default)."""
    return Rules(config.load(Settings().ads_layout_file), brand_safety.load())


def is_live(article: Article) -> bool:
    return article.status == "published" and article.deleted_at is None and article.published_at is not None


async def apply(conn: Connection, event: ArticleEvent) -> None:
    """Published: the page's slots are (re)computed and active. Anything else (unpublished,
    deleted, back to draft, scheduled): the article's slots go inactive, keeping their ids."""
    if not is_live(event.data):
        await store.retire(conn, event.data.id, event.data.version)
        return
    current = rules()
    page = page_of(event.data, current.config, current.brand_safety)
    await store.save_page(conn, page)
    log.info(
        "ads.slots_saved",
        slots=len(page.slots),
        brand_safety=page.safety.level,
        categories=list(page.safety.categories),
    )
