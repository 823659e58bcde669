"""Delivery API: what sites read. Only articles that are live now; never drafts or deleted."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.articles import queries
from cms.articles.model import SLUG_PATTERN, Language, Slug
from cms.articles.text import SLUG_MAX
from cms.events.contract import Block
from cms.platform import cache_keys, deps, pagination, web
from cms.platform.errors import NotFound
from cms.platform.openapi import SLUG_PARAM, Header, Operation
from cms.platform.pagination import Page, PageQuery
from cms.settings import Settings

_JSON_OPTIONS = orjson.OPT_UTC_Z
_SLUG = re.compile(SLUG_PATTERN)


def _json_default(value: object) -> str:
    """asyncpg returns its own UUID subclass, which orjson (exact types only) does not know."""
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _dumps(content: object) -> bytes:
    return orjson.dumps(content, default=_json_default, option=_JSON_OPTIONS)


class RelatedLink(BaseModel):
    id: uuid.UUID
    slug: str
    language: str
    title: str


class LiveCorrection(BaseModel):
    note: str = Field(description='plain text: escape it when rendering (e.g. as "Korrektur: …")')
    at: datetime


class LiveArticle(BaseModel):
    id: uuid.UUID
    slug: str
    language: str
    title: str
    lead: str
    body: list[Block]
    section: str | None
    tags: list[str]
    authors: list[str]
    related: list[RelatedLink]
    corrections: list[LiveCorrection] = Field(description="oldest first")
    published_at: datetime
    first_published_at: datetime
    updated_at: datetime
    version: int


class LiveSummary(BaseModel):
    id: uuid.UUID
    slug: str
    language: str
    title: str
    lead: str
    section: str | None
    tags: list[str]
    authors: list[str]
    published_at: datetime
    updated_at: datetime


class LiveListQuery(PageQuery):
    section: Slug | None = None
    tag: Slug | None = None
    language: Language | None = None


class BySlugQuery(BaseModel):
    model_config = ConfigDict(frozen=True)  # shared between requests by _by_slug_query

    language: Language | None = None


# Sites ask with the same few query strings ("", "language=de", ...): each is parsed and
# validated once, which would otherwise cost as much as the rest of get_live's own work.
_BY_SLUG_QUERIES: dict[bytes, BySlugQuery] = {}
_BY_SLUG_QUERIES_MAX = 256


async def list_live(request: Request) -> Response:
    query = web.parse_query(request, LiveListQuery)
    after = pagination.decode(query.cursor)
    items = await deps.reads(request).run(
        lambda conn: queries.live_page(
            conn,
            section=query.section,
            tag=query.tag,
            language=query.language,
            after=after,
            limit=query.limit,
        )
    )
    last = items[-1] if len(items) == query.limit else None
    cursor = pagination.encode(last["published_at"], last["id"]) if last else None
    body = _dumps({"items": items, "next_cursor": cursor})
    keys = cache_keys.headers(
        cache_keys.lists(section=query.section, tag=query.tag, language=query.language),
        (cache_keys.article(item["id"]) for item in items),
    )
    # No Last-Modified: the newest item's change time misses an article leaving the list.
    headers = {"ETag": _etag(body), **_cache_headers(request), **keys}
    if web.none_match(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=web.JSON, headers=headers)


async def get_live(request: Request) -> Response:
    slug = _path_slug(request)
    query = _by_slug_query(request)
    article = await deps.reads(request).run(lambda conn: queries.live_by_slug(conn, slug, query.language))
    if article is None:
        raise NotFound(f"no published article {slug!r}")
    related_ids = article.pop("related_ids")
    body = _dumps(article)
    # From the bytes, not the version: a "see also" article going away changes the page too.
    tag = _etag(body)
    # Up to 50 tags and 50 "see also" ids may not fit: those then give way to `list:all`.
    keys = cache_keys.headers(
        cache_keys.of_article(
            article["id"], section_slug=article["section"], language_code=article["language"]
        ),
        [*map(cache_keys.tag, article["tags"]), *map(cache_keys.article, related_ids)],
    )
    headers = {"ETag": tag, "Content-Language": article["language"], **_cache_headers(request), **keys}
    if web.none_match(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=web.JSON, headers=headers)


def _by_slug_query(request: Request) -> BySlugQuery:
    """web.parse_query, remembered per query string; an invalid one is refused every time."""
    raw: bytes = request.scope.get("query_string", b"")
    query = _BY_SLUG_QUERIES.get(raw)
    if query is None:
        query = web.parse_query(request, BySlugQuery)
        if len(_BY_SLUG_QUERIES) >= _BY_SLUG_QUERIES_MAX:
            _BY_SLUG_QUERIES.clear()
        _BY_SLUG_QUERIES[raw] = query
    return query


def _path_slug(request: Request) -> str:
    """A slug no article can have names nothing: a 404 without asking the database, which
    would fail on a NUL rather than find nothing."""
    slug: str = request.path_params["slug"]
    if len(slug) > SLUG_MAX or not _SLUG.fullmatch(slug):
        raise NotFound(f"no published article {slug!r}")
    return slug


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _cache_headers(request: Request) -> dict[str, str]:
    settings = _settings(request)
    return web.cache_control(
        settings.delivery_max_age,
        s_maxage=settings.delivery_s_maxage,
        stale_while_revalidate=settings.delivery_stale_while_revalidate,
        stale_if_error=settings.delivery_stale_if_error,
    )


OPERATIONS = [
    Operation(
        "GET",
        "/v1/content/articles",
        list_live,
        "Published articles, newest first",
        "delivery",
        query=LiveListQuery,
        response=Page[LiveSummary],
        headers=(Header("If-None-Match", "an ETag from an earlier answer: 304 if unchanged"),),
        extra_responses={304: "Not modified"},
    ),
    Operation(
        "GET",
        "/v1/content/articles/{slug}",
        get_live,
        "One published article",
        "delivery",
        query=BySlugQuery,
        path_params={"slug": SLUG_PARAM},
        response=LiveArticle,
        headers=(Header("If-None-Match", "an ETag from an earlier answer: 304 if unchanged"),),
        problems=(404,),
        extra_responses={304: "Not modified"},
    ),
]


def _settings(request: Request) -> Settings:
    """The content app's settings, which its application was built with."""
    found = deps.settings(request)
    if not isinstance(found, Settings):
        raise TypeError(f"the application was built with {type(found).__name__}, not the content Settings")
    return found
