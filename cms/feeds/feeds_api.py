"""Feeds and sitemaps over HTTP: RSS and Atom per site, section and tag; the sitemap index, its
pages and the Google News sitemap. Public, read-only, live articles only, cached like delivery."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from cms.articles.model import SLUG_PATTERN, Language
from cms.articles.text import SLUG_MAX
from cms.feeds import feed, queries, sitemap
from cms.feeds.links import public
from cms.platform import cache_keys, deps, pagination, web
from cms.platform.db import Connection
from cms.platform.errors import BadRequest, NotAcceptable, NotFound
from cms.platform.openapi import SLUG_PARAM, Endpoint, Header, Operation
from cms.platform.pagination import Cursor
from cms.settings import Settings

Scope = Literal["site", "section", "tag"]

SITEMAP_PATH = "/v1/feeds/sitemap.xml"
PAGE_PATH = "/v1/feeds/sitemaps/articles.xml"
NEWS_PATH = "/v1/feeds/sitemaps/news.xml"
# Rows fetched (and written) per round trip while a sitemap page streams: memory stays at one
# chunk whatever the page size, and no connection is held while a slow client reads.
CHUNK = 1000
# A Last-Modified younger than this is not sent: a write that began earlier but commits later
# would carry an older updated_at, and a client holding that Last-Modified would miss it.
SETTLE = timedelta(seconds=2)
MAX_ACCEPT = 4096
_SLUG = re.compile(SLUG_PATTERN)


class FeedQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    language: Language | None = None


class SitemapPageQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: Cursor | None = None


def _feed_endpoint(fmt: feed.Format, scope: Scope) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await _feed(request, fmt, scope)

    endpoint.__name__ = f"{fmt}_{scope}_feed"  # the operationId in /openapi.json
    return endpoint


async def _feed(request: Request, fmt: feed.Format, scope: Scope) -> Response:
    _check_accept(request)
    settings = _settings(request)
    name = _path_slug(request, scope) if scope != "site" else None
    query = web.parse_query(request, FeedQuery)
    section, tag = (name, None) if scope == "section" else (None, name)
    full = settings.feed_content == "full"

    async def read(conn: Connection) -> tuple[queries.Clock, list[dict[str, Any]]]:
        items = await queries.feed_items(
            conn, section=section, tag=tag, language=query.language, limit=settings.feed_items, full=full
        )
        return await queries.clock(conn), items

    clock, items = await deps.reads(request).run(read)
    self_path = request.url.path + (f"?language={query.language}" if query.language else "")
    channel = feed.Channel(
        title=_title(settings.publication_name, section, tag),
        description=_description(settings.publication_name, section, tag),
        self_url=public(settings.public_url, self_path),
        site_url=settings.public_url,
        language=query.language or settings.feed_language,
        public_url=settings.public_url,
        url_pattern=settings.article_url_pattern,
        full_text=full,
    )
    body = feed.render(items, channel, fmt)
    keys = cache_keys.headers(
        [
            cache_keys.feed(scope if name is None else f"{scope}:{name}"),
            *cache_keys.lists(section=section, tag=tag, language=query.language),
        ],
        (cache_keys.article(item["id"]) for item in items),
    )
    headers = {"Content-Language": channel.language, **_validators(body, clock), **_cache(settings), **keys}
    if _not_modified(request, headers, clock):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type=feed.MEDIA_TYPES[fmt])


def _title(publication: str, section: str | None, tag: str | None) -> str:
    if section:
        return f"{publication}: {section}"
    if tag:
        return f"{publication}: #{tag}"
    return publication


def _description(publication: str, section: str | None, tag: str | None) -> str:
    where = f" in {section}" if section else f" tagged {tag}" if tag else ""
    return f"The newest articles of {publication}{where}"


async def sitemap_index(request: Request) -> Response:
    """The index: one entry per page of `sitemap_page_size` live articles, oldest first, each
    with the newest change on it; then the news sitemap. Each page costs one bounded query."""
    _check_accept(request)
    settings = _settings(request)
    reads = deps.reads(request)
    clock = await reads.run(queries.clock)
    entries: list[sitemap.IndexEntry] = []
    start: queries.Key | None = None
    # The protocol allows 50,000 sitemaps in one index (the news sitemap is one of them).
    while len(entries) < sitemap.SITEMAPS_PER_INDEX - 1:
        page = await reads.run(
            functools.partial(queries.page_summary, start=start, size=settings.sitemap_page_size)
        )
        if page is None:
            break
        path = PAGE_PATH if start is None else f"{PAGE_PATH}?start={pagination.encode(*page.start)}"
        entries.append(sitemap.IndexEntry(public(settings.public_url, path), page.lastmod))
        if page.next_start is None:
            break
        start = page.next_start
    entries.append(sitemap.IndexEntry(public(settings.public_url, NEWS_PATH), None))
    body = sitemap.index(entries)
    headers = {**_validators(body, clock), **_cache(settings), **_SITEMAP_KEYS}
    if _not_modified(request, headers, clock):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type=sitemap.MEDIA_TYPE)


async def sitemap_page(request: Request) -> Response:
    """One page: `sitemap_page_size` live articles from `start`, streamed a chunk at a time."""
    _check_accept(request)
    settings = _settings(request)
    query = web.parse_query(request, SitemapPageQuery)
    start = pagination.decode(query.start)
    reads = deps.reads(request)
    size = settings.sitemap_page_size
    clock = await reads.run(queries.clock)
    headers = {**_last_modified(clock), **_cache(settings), **_SITEMAP_KEYS}
    if _not_modified(request, headers, clock):
        return Response(status_code=304, headers=headers)
    first = await reads.run(lambda conn: queries.urls_from(conn, start, min(CHUNK, size)))
    if not first:
        raise NotFound("no sitemap page starts there; read the sitemap index for the current pages")
    site = sitemap.Site(settings.public_url, settings.article_url_pattern)

    async def fetch(after: queries.Key, limit: int) -> list[dict[str, Any]]:
        return await reads.run(functools.partial(queries.urls_after, after=after, limit=limit))

    chunks = _page_chunks(first, size, site, fetch)
    return StreamingResponse(chunks, headers=headers, media_type=sitemap.MEDIA_TYPE)


async def _page_chunks(
    first: list[dict[str, Any]],
    size: int,
    site: sitemap.Site,
    fetch: Callable[[queries.Key, int], Awaitable[list[dict[str, Any]]]],
) -> AsyncIterator[bytes]:
    yield sitemap.urlset_open() + sitemap.urls(first, site)
    written, rows, asked = len(first), first, min(CHUNK, size)
    while written < size and len(rows) == asked:  # a short chunk: nothing more is live
        asked = min(CHUNK, size - written)
        rows = await fetch((rows[-1]["published_at"], rows[-1]["id"]), asked)
        written += len(rows)
        if rows:
            yield sitemap.urls(rows, site)
    yield sitemap.URLSET_CLOSE


async def news_sitemap(request: Request) -> Response:
    """Articles first published in the last 48 hours, newest first, at most 1,000."""
    _check_accept(request)
    settings = _settings(request)
    rows = await deps.reads(request).run(queries.news_items)
    site = sitemap.Site(settings.public_url, settings.article_url_pattern)
    body = sitemap.news(rows, site, settings.publication_name)
    # No Last-Modified: articles leave this sitemap as they age, which no change time records.
    headers = {"ETag": _etag(body), **_cache(settings), **_SITEMAP_KEYS}
    if _not_modified(request, headers, None):
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type=sitemap.MEDIA_TYPE)


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _validators(body: bytes, clock: queries.Clock) -> dict[str, str]:
    return {"ETag": _etag(body), **_last_modified(clock)}


def _last_modified(clock: queries.Clock) -> dict[str, str]:
    if clock.changed_at is None or clock.now - clock.changed_at < SETTLE:
        return {}
    return {"Last-Modified": web.http_date(clock.changed_at)}


def _not_modified(request: Request, headers: dict[str, str], clock: queries.Clock | None) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when sent; If-Modified-Since only without it, and
    only against a Last-Modified this answer carries."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return "ETag" in headers and web.none_match(if_none_match, headers["ETag"])
    if_modified_since = request.headers.get("if-modified-since")
    if (
        if_modified_since is None
        or clock is None
        or clock.changed_at is None
        or "Last-Modified" not in headers
    ):
        return False
    return not web.modified_since(if_modified_since, clock.changed_at)


def _check_accept(request: Request) -> None:
    """Every answer here is XML: a client that accepts no XML at all gets a 406, not a body it
    said it cannot read. Lenient on purpose: readers send all kinds of lists."""
    header = request.headers.get("accept")
    if header is None or not header.strip():
        return
    if len(header) > MAX_ACCEPT:
        raise BadRequest(f"the Accept header may be at most {MAX_ACCEPT} characters")
    if not any(_takes_xml(media_range) for media_range in header.split(",")):
        raise NotAcceptable("this resource is XML; send an Accept that includes an XML type or */*")


def _takes_xml(media_range: str) -> bool:
    media_type, *params = (part.strip().lower() for part in media_range.split(";"))
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "q" and value.strip() in {"0", "0.", "0.0", "0.00", "0.000"}:
            return False
    kind, _, subtype = media_type.partition("/")
    return (
        (kind in {"*", "application", "text"} and subtype == "*")
        or subtype == "xml"
        or subtype.endswith("+xml")
    )


def _path_slug(request: Request, scope: Scope) -> str:
    """A section or tag that is not a slug names nothing: a 404 without asking the database."""
    name: str = request.path_params[scope]
    if len(name) > SLUG_MAX or not _SLUG.fullmatch(name):
        raise NotFound(f"no {scope} {name[:SLUG_MAX]!r}: {scope}s are slugs")
    return name


def _cache(settings: Settings) -> dict[str, str]:
    return web.cache_control(
        settings.delivery_max_age,
        s_maxage=settings.delivery_s_maxage,
        stale_while_revalidate=settings.delivery_stale_while_revalidate,
        stale_if_error=settings.delivery_stale_if_error,
    )


# A sitemap names up to 50,000 articles, far more than a header holds: it depends on every live
# article, which is what `list:all` says (every change to one purges it).
_SITEMAP_KEYS = cache_keys.headers([cache_keys.SITEMAP, cache_keys.ALL])


def _settings(request: Request) -> Settings:
    """The content app's settings, which its application was built with."""
    found = deps.settings(request)
    if not isinstance(found, Settings):
        raise TypeError(f"the application was built with {type(found).__name__}, not the content Settings")
    return found


_CONDITIONAL = (
    Header("If-None-Match", "an ETag from an earlier answer: 304 if unchanged"),
    Header("If-Modified-Since", "a Last-Modified from an earlier answer: 304 if nothing changed since"),
)


_SCOPES: tuple[tuple[Scope, str], ...] = (
    ("site", "/v1/feeds"),
    ("section", "/v1/feeds/sections/{section}"),
    ("tag", "/v1/feeds/tags/{tag}"),
)
_FORMATS: tuple[tuple[feed.Format, str], ...] = (("rss", "RSS 2.0"), ("atom", "Atom"))


def _feed_operations() -> list[Operation]:
    found = []
    for scope, prefix in _SCOPES:
        for fmt, label in _FORMATS:
            found.append(
                Operation(
                    "GET",
                    f"{prefix}/{fmt}.xml",
                    _feed_endpoint(fmt, scope),
                    f"{label} feed of the newest live articles"
                    + ("" if scope == "site" else f" of a {scope}"),
                    "feeds",
                    query=FeedQuery,
                    path_params={} if scope == "site" else {scope: SLUG_PARAM},
                    headers=_CONDITIONAL,
                    media_type=feed.MEDIA_TYPES[fmt],
                    problems=(400, 406),
                    extra_responses={304: "Not modified"},
                )
            )
    return found


OPERATIONS = [
    *_feed_operations(),
    Operation(
        "GET",
        SITEMAP_PATH,
        sitemap_index,
        "Sitemap index: the article pages and the news sitemap",
        "feeds",
        headers=_CONDITIONAL,
        media_type=sitemap.MEDIA_TYPE,
        problems=(400, 406),
        extra_responses={304: "Not modified"},
    ),
    Operation(
        "GET",
        PAGE_PATH,
        sitemap_page,
        "One sitemap page of live articles, oldest first, as listed in the index",
        "feeds",
        query=SitemapPageQuery,
        headers=_CONDITIONAL[1:],
        media_type=sitemap.MEDIA_TYPE,
        problems=(400, 404, 406),
        extra_responses={304: "Not modified"},
    ),
    Operation(
        "GET",
        NEWS_PATH,
        news_sitemap,
        "Google News sitemap: live articles first published in the last 48 hours",
        "feeds",
        headers=_CONDITIONAL[:1],
        media_type=sitemap.MEDIA_TYPE,
        problems=(400, 406),
        extra_responses={304: "Not modified"},
    ),
]
