"""Counting the active slots, grouped and filtered as ad operations ask (SQL built from a
fixed set of dimensions; values travel as $n)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cms.platform.db import Connection

Dimension = Literal["section", "language", "brand_safety", "position", "size"]
DIMENSIONS: tuple[Dimension, ...] = ("section", "language", "brand_safety", "position", "size")

# Grouped by size, a slot counts once under each size it takes (a slot for 300x250 or 300x600
# is inventory for both); filtered by size, a slot counts if it takes that size.
_COLUMN: dict[Dimension, str] = {
    "section": "s.section",
    "language": "s.language",
    "brand_safety": "s.brand_safety",
    "position": "s.position",
    "size": "size",
}


@dataclass(frozen=True)
class Filters:
    section: str | None = None
    language: str | None = None
    brand_safety: str | None = None
    position: str | None = None
    size: str | None = None


@dataclass(frozen=True)
class Row:
    group: dict[Dimension, str | None]
    slots: int
    articles: int


def query(group_by: tuple[Dimension, ...]) -> str:
    by_size = "size" in group_by
    source = "ads.slots s CROSS JOIN LATERAL unnest(s.sizes) AS size" if by_size else "ads.slots s"
    size_test = "size = $5" if by_size else "$5 = ANY(s.sizes)"
    columns = "".join(f"{_COLUMN[d]} AS {d}, " for d in group_by)
    grouping = f" GROUP BY {', '.join(_COLUMN[d] for d in group_by)}" if group_by else ""
    ordering = f" ORDER BY {', '.join(_COLUMN[d] for d in group_by)}" if group_by else ""
    return (
        f"SELECT {columns}count(*) AS slots, count(DISTINCT s.article_id) AS articles FROM {source}"
        " WHERE s.active"
        " AND ($1::text IS NULL OR s.section = $1) AND ($2::text IS NULL OR s.language = $2)"
        " AND ($3::text IS NULL OR s.brand_safety = $3) AND ($4::text IS NULL OR s.position = $4)"
        f" AND ($5::text IS NULL OR {size_test}){grouping}{ordering}"
    )


async def count(conn: Connection, group_by: tuple[Dimension, ...], filters: Filters) -> list[Row]:
    rows = await conn.fetch(
        query(group_by),
        filters.section,
        filters.language,
        filters.brand_safety,
        filters.position,
        filters.size,
    )
    return [Row({d: r[d] for d in group_by}, r["slots"], r["articles"]) for r in rows]
