"""A WordPress post as both readers hand it over (the WXR file and the REST API), with the
site's authors, terms and media already looked up: the one shape the mapping reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Term:
    """A category or a tag: its slug as WordPress stores it (maybe percent-encoded) and its name."""

    slug: str
    name: str


@dataclass(frozen=True)
class Media:
    """An attachment: the file's URL (kept; the file itself is not fetched), alt text, caption."""

    url: str
    alt: str = ""
    caption: str = ""


@dataclass(frozen=True)
class Site:
    """Where the posts come from: the key of every imported post, and the site's language."""

    url: str
    language: str | None
    title: str = ""


@dataclass(frozen=True)
class SourcePost:
    post_id: int
    post_type: str
    status: str
    title: str
    content: str
    excerpt: str
    post_name: str
    date_gmt: datetime | None
    modified_gmt: datetime | None
    link: str
    guid: str
    authors: list[str] = field(default_factory=list)
    categories: list[Term] = field(default_factory=list)
    primary_category: Term | None = None
    tags: list[Term] = field(default_factory=list)
    featured: Media | None = None
    password: bool = False
    # Attachments by id, for `[gallery ids="…"]`; `children`: those attached to this post.
    media: dict[int, Media] = field(default_factory=dict)
    children: list[Media] = field(default_factory=list)
