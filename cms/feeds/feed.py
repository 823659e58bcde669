"""RSS 2.0 and Atom 1.0 from a list of live articles, written by feedgen. Pure: the same
articles and channel give the same bytes, so the bytes' hash is the feed's ETag."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from feedgen.feed import FeedGenerator

from cms.feeds.links import article_url
from cms.feeds.text import body_html, escape, xml_safe

Format = Literal["rss", "atom"]
MEDIA_TYPES: dict[Format, str] = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
# What an empty feed says it was updated: a fixed instant keeps its bytes (and ETag) stable.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Channel:
    """What a feed says about itself."""

    title: str
    description: str
    self_url: str  # where this feed is read; also the Atom feed's id, which must not change
    site_url: str
    language: str
    public_url: str
    url_pattern: str
    full_text: bool


def guid(article_id: object) -> str:
    """An article's id in every feed, for ever: slugs, titles and URLs may change, the id never."""
    return f"urn:uuid:{article_id}"


def render(items: Sequence[dict[str, Any]], channel: Channel, fmt: Format) -> bytes:
    generator = _generator(items, channel)
    written: bytes = generator.rss_str() if fmt == "rss" else generator.atom_str()
    return written


def _generator(items: Sequence[dict[str, Any]], channel: Channel) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc")  # dc:creator (RSS's own author element wants an e-mail) and dc:language
    fg.id(channel.self_url)
    fg.title(xml_safe(channel.title))
    fg.description(xml_safe(channel.description))
    fg.author(name=xml_safe(channel.title))
    # feedgen gives RSS the last link as the channel's <link>: the site, after the feed itself.
    fg.link(href=channel.self_url, rel="self")
    fg.link(href=channel.site_url, rel="alternate")
    fg.language(channel.language)
    fg.generator("newsroom-cms")
    fg.updated(max((item["updated_at"] for item in items), default=_EPOCH))
    for item in items:
        _entry(fg, item, channel)
    return fg


def _entry(fg: FeedGenerator, item: dict[str, Any], channel: Channel) -> None:
    entry = fg.add_entry(order="append")
    entry.id(guid(item["id"]))
    entry.guid(guid(item["id"]), permalink=False)
    entry.title(xml_safe(item["title"]))
    url = article_url(
        channel.public_url,
        channel.url_pattern,
        section=item["section"],
        slug=item["slug"],
        article_id=item["id"],
        language=item["language"],
    )
    entry.link(href=url, rel="alternate")
    entry.published(item["published_at"])
    entry.updated(item["updated_at"])
    if item["lead"]:
        # The lead is plain text; readers take RSS descriptions and these summaries as HTML.
        lead = escape(item["lead"])
        entry.description(lead, isSummary=True)
        entry.summary(lead, type="html")
    if channel.full_text and item["body"]:
        entry.content(body_html(item["body"]), type="html")
    authors = [xml_safe(name) for name in item["authors"]]
    if authors:
        entry.author([{"name": name} for name in authors])
        entry.dc.dc_creator(authors)
    entry.dc.dc_language(item["language"])
    for term in [*([item["section"]] if item["section"] else []), *item["tags"]]:
        entry.category(term=term)
