"""Sitemaps (sitemaps.org 0.9) and the Google News sitemap, written in pieces. Pure functions.

A page of 50,000 URLs is about 10 MB of XML: it is written chunk by chunk as the rows arrive
(`urlset_open`, then `urls` for each chunk, then `URLSET_CLOSE`), never held whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cms.feeds.links import article_url
from cms.feeds.text import escape

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
MEDIA_TYPE = "application/xml"
SITEMAPS_PER_INDEX = 50_000  # the protocol's limit for one index file
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
URLSET_CLOSE = b"</urlset>\n"


@dataclass(frozen=True)
class Site:
    public_url: str
    url_pattern: str


@dataclass(frozen=True)
class IndexEntry:
    loc: str
    lastmod: datetime | None


def w3c_datetime(at: datetime) -> str:
    """The W3C Datetime profile of ISO 8601 that sitemaps use, in UTC to the second."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def index(entries: Iterable[IndexEntry]) -> bytes:
    parts = [_DECLARATION, f'<sitemapindex xmlns="{SITEMAP_NS}">\n']
    for entry in entries:
        lastmod = f"<lastmod>{w3c_datetime(entry.lastmod)}</lastmod>" if entry.lastmod else ""
        parts.append(f"<sitemap><loc>{escape(entry.loc)}</loc>{lastmod}</sitemap>\n")
    parts.append("</sitemapindex>\n")
    return "".join(parts).encode()


def urlset_open() -> bytes:
    return f'{_DECLARATION}<urlset xmlns="{SITEMAP_NS}">\n'.encode()


def urls(rows: Sequence[dict[str, Any]], site: Site) -> bytes:
    """One chunk of <url> elements: the article's address and when it last changed."""
    return "".join(
        f"<url><loc>{escape(_url(row, site))}</loc>"
        f"<lastmod>{w3c_datetime(row['updated_at'])}</lastmod></url>\n"
        for row in rows
    ).encode()


def news(rows: Sequence[dict[str, Any]], site: Site, publication: str) -> bytes:
    """A Google News sitemap: each article with its publication, language, title and date."""
    name = escape(publication)
    parts = [_DECLARATION, f'<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}">\n']
    for row in rows:
        parts.append(
            f"<url><loc>{escape(_url(row, site))}</loc><news:news><news:publication>"
            f"<news:name>{name}</news:name><news:language>{news_language(row['language'])}</news:language>"
            f"</news:publication><news:publication_date>{w3c_datetime(row['first_published_at'])}"
            f"</news:publication_date><news:title>{escape(row['title'])}</news:title></news:news></url>\n"
        )
    parts.append("</urlset>\n")
    return "".join(parts).encode()


def news_language(tag: str) -> str:
    """Google News takes an ISO 639 code, except zh-cn and zh-tw for the two Chinese scripts."""
    parts = tag.lower().split("-")
    if parts[0] == "zh":
        return "zh-tw" if {"hant", "tw", "hk", "mo"} & set(parts[1:]) else "zh-cn"
    return parts[0]


def _url(row: dict[str, Any], site: Site) -> str:
    return article_url(
        site.public_url,
        site.url_pattern,
        section=row["section"],
        slug=row["slug"],
        article_id=row["id"],
        language=row["language"],
    )
