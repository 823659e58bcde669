"""SQL for `ads.slots`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cms.platform.db import Connection
from consumers.ads.page import Page

_UPSERT = """
INSERT INTO ads.slots AS s (article_id, slot_key, slot_id, ordinal, position, sizes, desktop_sizes,
                            mobile_sizes, after_block, targeting, section, language, brand_safety,
                            brand_safety_categories, active, article_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, true, $15)
ON CONFLICT (article_id, slot_key) DO UPDATE SET
    ordinal = excluded.ordinal, position = excluded.position, sizes = excluded.sizes,
    desktop_sizes = excluded.desktop_sizes, mobile_sizes = excluded.mobile_sizes,
    after_block = excluded.after_block, targeting = excluded.targeting, section = excluded.section,
    language = excluded.language, brand_safety = excluded.brand_safety,
    brand_safety_categories = excluded.brand_safety_categories, active = true,
    article_version = excluded.article_version, deactivated_at = NULL, updated_at = now()"""
_RETIRE_OTHERS = """
UPDATE ads.slots SET active = false, deactivated_at = now(), updated_at = now(), article_version = $3
WHERE article_id = $1 AND active AND slot_key <> ALL($2::text[])"""
_RETIRE_ALL = """
UPDATE ads.slots SET active = false, deactivated_at = now(), updated_at = now(), article_version = $2
WHERE article_id = $1 AND active"""
_ACTIVE = """
SELECT slot_id, slot_key, position, sizes, desktop_sizes, mobile_sizes, after_block, targeting,
       article_version, updated_at
FROM ads.slots WHERE article_id = $1 AND active ORDER BY ordinal"""


async def save_page(conn: Connection, page: Page) -> None:
    """The page's slots become the article's active ones; slots it no longer has go inactive."""
    article = page.article
    await conn.executemany(
        _UPSERT,
        [
            (
                article.id,
                slot.key,
                slot.id,
                slot.ordinal,
                slot.position,
                list(slot.sizes),
                list(slot.desktop_sizes),
                list(slot.mobile_sizes),
                slot.after_block,
                slot.targeting,
                article.section,
                article.language,
                page.safety.level,
                list(page.safety.categories),
                article.version,
            )
            for slot in page.slots
        ],
    )
    await conn.execute(_RETIRE_OTHERS, article.id, [slot.key for slot in page.slots], article.version)


async def retire(conn: Connection, article_id: uuid.UUID, version: int) -> None:
    await conn.execute(_RETIRE_ALL, article_id, version)


@dataclass(frozen=True)
class ActiveSlot:
    id: uuid.UUID
    key: str
    position: str
    sizes: list[str]
    desktop_sizes: list[str]
    mobile_sizes: list[str]
    after_block: int | None
    targeting: dict[str, Any]
    article_version: int
    updated_at: datetime


async def active_slots(conn: Connection, article_id: uuid.UUID) -> list[ActiveSlot]:
    return [
        ActiveSlot(
            id=r["slot_id"],
            key=r["slot_key"],
            position=r["position"],
            sizes=r["sizes"],
            desktop_sizes=r["desktop_sizes"],
            mobile_sizes=r["mobile_sizes"],
            after_block=r["after_block"],
            targeting=r["targeting"],
            article_version=r["article_version"],
            updated_at=r["updated_at"],
        )
        for r in await conn.fetch(_ACTIVE, article_id)
    ]
