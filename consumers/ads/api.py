"""The ads consumer's HTTP face.

- `GET /v1/ads/articles/{id}/slots` is public: it is what a page template or an ad tag on the
  public page needs (slot ids, sizes, key-values), and says nothing the page does not show.
- `GET /v1/ads/inventory` is for ad operations (editor+): inventory volumes are business data.
  JSON by default; CSV with `?format=csv` or `Accept: text/csv`.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from consumers.ads import inventory, store
from consumers.runtime.http import (
    UUID_PARAM,
    InvalidInput,
    NotFound,
    Operation,
    Role,
    Unavailable,
    json_response,
    parse_query,
    path_uuid,
    require_role,
)
from consumers.runtime.spec import Store

CSV = "text/csv; charset=utf-8"
_PAGE_ONLY = ("position", "slot")  # the slot's own key-values; the rest are the page's

KeyValues = dict[str, str | list[str]]


class SizeMapping(BaseModel):
    desktop: list[str]
    mobile: list[str]


class AdSlot(BaseModel):
    id: uuid.UUID = Field(description="stable for this article and slot key")
    key: str = Field(description="the slot's name on the page: top, sidebar, in-article-1, bottom, ...")
    position: str
    sizes: list[str] = Field(description="every size the slot takes")
    size_mapping: SizeMapping
    after_block: int | None = Field(description="in-article: index of the body block it follows")
    targeting: KeyValues


class ArticleSlots(BaseModel):
    article_id: uuid.UUID
    version: int
    targeting: KeyValues = Field(description="the page's key-values (each slot adds position and slot)")
    slots: list[AdSlot]


_SLUG = r"^$|^[a-z0-9]+(?:-[a-z0-9]+)*$"


class InventoryQuery(BaseModel):
    """Filters by value; an empty filter (`?section=`) or `group_by` groups by that dimension."""

    model_config = ConfigDict(extra="ignore")
    section: Annotated[str | None, Field(pattern=_SLUG, max_length=120)] = None
    language: Annotated[
        str | None, Field(pattern=r"^$|^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$", max_length=35)
    ] = None
    brand_safety: Literal["safe", "sensitive", "unsafe", ""] | None = None
    position: Annotated[str | None, Field(pattern=_SLUG, max_length=60)] = None
    size: Annotated[str | None, Field(pattern=r"^$|^[1-9][0-9]{0,3}x[1-9][0-9]{0,3}$")] = None
    group_by: Annotated[
        str | None,
        Field(max_length=100, description="comma-separated: section, language, brand_safety, position, size"),
    ] = None
    format: Literal["json", "csv"] | None = None

    def grouping(self) -> tuple[inventory.Dimension, ...]:
        asked = [part.strip() for part in (self.group_by or "").split(",") if part.strip()]
        unknown = [part for part in asked if part not in inventory.DIMENSIONS]
        if unknown:
            raise InvalidInput(
                f"cannot group by {', '.join(unknown)}",
                [{"loc": ["query", "group_by"], "msg": f"one of {', '.join(inventory.DIMENSIONS)}"}],
            )
        empty = {d for d in inventory.DIMENSIONS if getattr(self, d) == ""}
        return tuple(d for d in inventory.DIMENSIONS if d in asked or d in empty)

    def filters(self) -> inventory.Filters:
        return inventory.Filters(
            section=self.section or None,
            language=self.language or None,
            brand_safety=self.brand_safety or None,
            position=self.position or None,
            size=self.size or None,
        )


class InventoryGroup(BaseModel):
    model_config = ConfigDict(extra="allow")
    slots: int = Field(description="active slots (grouped by size: slots that take that size)")
    articles: int = Field(description="live articles those slots are on")


class InventoryReport(BaseModel):
    group_by: list[str]
    groups: list[InventoryGroup]


def _wants_csv(request: Request, query: InventoryQuery) -> bool:
    if query.format is not None:
        return query.format == "csv"
    return "text/csv" in request.headers.get("accept", "")


def to_csv(group_by: tuple[str, ...], rows: list[inventory.Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow([*group_by, "slots", "articles"])
    for row in rows:
        writer.writerow([*(row.group[d] or "" for d in row.group), row.slots, row.articles])
    return out.getvalue()


def operations(ads: Store) -> list[Operation]:
    async def article_ad_slots(request: Request) -> Response:
        article_id = path_uuid(request)
        if ads.pool is None:
            raise Unavailable("the ad inventory is not open yet")
        async with ads.pool.acquire() as conn:
            slots = await store.active_slots(conn, article_id)
        if not slots:
            raise NotFound(f"no live page with ad slots for article {article_id}")
        page = {k: v for k, v in sorted(slots[0].targeting.items()) if k not in _PAGE_ONLY}
        answer = ArticleSlots(
            article_id=article_id,
            version=max(slot.article_version for slot in slots),
            targeting=page,
            slots=[
                AdSlot(
                    id=slot.id,
                    key=slot.key,
                    position=slot.position,
                    sizes=slot.sizes,
                    size_mapping=SizeMapping(desktop=slot.desktop_sizes, mobile=slot.mobile_sizes),
                    after_block=slot.after_block,
                    targeting=dict(sorted(slot.targeting.items())),  # jsonb keeps no key order
                )
                for slot in slots
            ],
        )
        return json_response(answer, headers={"Cache-Control": "public, max-age=60"})

    async def ad_inventory(request: Request) -> Response:
        await require_role(request, Role.editor)
        query = parse_query(request, InventoryQuery)
        group_by = query.grouping()
        if ads.pool is None:
            raise Unavailable("the ad inventory is not open yet")
        async with ads.pool.acquire() as conn:
            rows = await inventory.count(conn, group_by, query.filters())
        headers = {"Cache-Control": "private, no-store", "Vary": "Accept"}
        if _wants_csv(request, query):
            headers["Content-Disposition"] = 'attachment; filename="ad-inventory.csv"'
            return Response(to_csv(group_by, rows), media_type=CSV, headers=headers)
        report = InventoryReport(
            group_by=list(group_by),
            groups=[InventoryGroup(slots=row.slots, articles=row.articles, **row.group) for row in rows],
        )
        return json_response(report, headers=headers)

    return [
        Operation(
            "GET",
            "/v1/ads/articles/{id}/slots",
            article_ad_slots,
            "The ad slots of a live article's page, with sizes and targeting key-values",
            "ads",
            path_params={"id": UUID_PARAM},
            response=ArticleSlots,
        ),
        Operation(
            "GET",
            "/v1/ads/inventory",
            ad_inventory,
            "Active ad slots counted by section, language, brand safety, position or size (CSV too)",
            "ads",
            auth=Role.editor,
            query=InventoryQuery,
            response=InventoryReport,
            problems=(422,),
        ),
    ]
