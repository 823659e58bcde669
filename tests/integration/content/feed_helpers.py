"""Helpers for the feed and sitemap tests: an API built with feed settings, live articles, and
the sitemaps' required elements checked as their XML Schemas state them."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

import asyncpg
import httpx2
from defusedxml import ElementTree

from cms.app import create_app
from cms.system import SystemSettings
from tests.helpers import action, create_draft, publish

PUBLIC_URL = "https://news.example"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
# The W3C Datetime forms the sitemap schema's tLastmod accepts (sitemap.xsd: xsd:date or xsd:dateTime).
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$")


@contextlib.asynccontextmanager
async def feeds_client(settings: SystemSettings, **overrides: Any) -> AsyncIterator[httpx2.AsyncClient]:
    """The content API, started with `settings` changed by `overrides`, and a client for it."""
    changed = settings.model_copy(update={"public_url": PUBLIC_URL, **overrides})
    application = create_app(changed)
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            yield client


async def live(api: httpx2.AsyncClient, token: dict[str, str], **fields: Any) -> dict[str, Any]:
    """A published article with `fields` (a section of `world` unless given)."""
    draft = await create_draft(api, token["author"], **{"section": "world", **fields})
    return await publish(api, token["editor"], draft)


async def unpublish(api: httpx2.AsyncClient, token: dict[str, str], article: dict[str, Any]) -> None:
    response = await action(api, token["editor"], article, "unpublish")
    assert response.status_code == 200, response.text


def url_of(article: dict[str, Any]) -> str:
    """The article's address with the default pattern, /{section}/{slug}."""
    return f"{PUBLIC_URL}/{article['section']}/{article['slug']}"


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse(body: bytes) -> Element:
    """Well-formed XML or an exception; defusedxml refuses entities and DTDs on the way."""
    root: Element = ElementTree.fromstring(body)
    return root


def check_urlset(root: Element) -> list[Element]:
    """A <urlset> as sitemap.xsd requires it: each <url> has one absolute <loc> of at most 2,048
    characters and at most one W3C <lastmod>. Returns the <url> elements."""
    assert root.tag == f"{SM}urlset"
    found = root.findall(f"{SM}url")
    for url in found:
        locs = url.findall(f"{SM}loc")
        assert len(locs) == 1
        loc = locs[0].text or ""
        assert loc.startswith(("http://", "https://")), loc
        assert 12 <= len(loc) <= 2048, loc
        lastmods = url.findall(f"{SM}lastmod")
        assert len(lastmods) <= 1
        assert all(W3C_DATETIME.match(lastmod.text or "") for lastmod in lastmods)
    return found


def check_sitemapindex(root: Element) -> list[Element]:
    """A <sitemapindex> as siteindex.xsd requires it: at least one <sitemap>, each with one <loc>."""
    assert root.tag == f"{SM}sitemapindex"
    found = root.findall(f"{SM}sitemap")
    assert found
    for entry in found:
        assert len(entry.findall(f"{SM}loc")) == 1
        assert all(W3C_DATETIME.match(lastmod.text or "") for lastmod in entry.findall(f"{SM}lastmod"))
    return found


def check_news(root: Element) -> list[dict[str, str]]:
    """A Google News sitemap as sitemap-news.xsd requires it: in each <url>, one <news:news> with
    <news:publication> (<news:name>, <news:language>), <news:publication_date> and <news:title>.
    Returns each entry's values."""
    entries = []
    for url in check_urlset(root):
        (news,) = url.findall(f"{NEWS}news")
        (publication,) = news.findall(f"{NEWS}publication")
        values = {
            "loc": url.findtext(f"{SM}loc") or "",
            "name": publication.findtext(f"{NEWS}name") or "",
            "language": publication.findtext(f"{NEWS}language") or "",
            "publication_date": news.findtext(f"{NEWS}publication_date") or "",
            "title": news.findtext(f"{NEWS}title") or "",
        }
        assert all(values.values()), values
        assert W3C_DATETIME.match(values["publication_date"])
        assert re.fullmatch(r"[a-z]{2,3}|zh-cn|zh-tw", values["language"])
        entries.append(values)
    return entries


def locs(root: Element) -> list[str]:
    return [url.findtext(f"{SM}loc") or "" for url in root.findall(f"{SM}url")]


async def clone_live(db: asyncpg.Connection[asyncpg.Record], source_id: str, count: int) -> None:
    """`count` more live copies of a live article, each with its own id and slug, written straight
    into the table (a read-side test needs many rows, not many requests)."""
    await db.execute(
        """
        INSERT INTO articles (id, slug, language, title, lead, body, section, tags, authors,
                              related, status, published_at, first_published_at, created_at,
                              updated_at, owner, version)
        SELECT gen_random_uuid(), a.slug || '-copy-' || n, a.language, a.title || ' ' || n, a.lead,
               a.body, a.section, a.tags, a.authors, '{}', 'published',
               a.published_at + n * interval '1 millisecond',
               a.first_published_at + n * interval '1 millisecond',
               a.created_at, a.updated_at, a.owner, 1
        FROM articles a, generate_series(1, $2) AS n
        WHERE a.id = $1
        """,
        source_id,
        count,
    )


async def age(db: asyncpg.Connection[asyncpg.Record], article_id: str, hours: float) -> None:
    """Make an article look first published (and published) `hours` ago."""
    await db.execute(
        """UPDATE articles SET published_at = now() - make_interval(secs => $2),
                               first_published_at = now() - make_interval(secs => $2)
           WHERE id = $1""",
        article_id,
        hours * 3600,
    )
