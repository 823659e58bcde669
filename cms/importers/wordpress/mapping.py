"""A WordPress post as one of our articles: status and dates, slug, section, tags, bylines, the
featured image and the body. Pure: what to write, or why the post is skipped."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote

import orjson
from pydantic import ValidationError

from cms.articles.imports import Incoming
from cms.articles.model import ArticleCreate
from cms.articles.text import slug_from_title
from cms.events.contract import Image, Status
from cms.importers.wordpress import blocks
from cms.importers.wordpress.source import Site, SourcePost, Term

# WordPress status → ours. `private` is visible to the site's editors only: a draft here.
STATUSES: dict[str, Status] = {
    "publish": "published",
    "future": "scheduled",
    "draft": "draft",
    "pending": "in_review",
    "private": "draft",
}
_SKIPPED_STATUSES = {"trash": "in the trash", "auto-draft": "an unsaved auto-draft", "inherit": "a revision"}
_NO_SECTION = {"uncategorized", "allgemein", "non-classe", "sin-categoria"}
_TAGS = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Options:
    language: str | None = None
    post_to_social: bool = True


@dataclass
class Mapped:
    """What the post becomes, and everything the report and the redirects need."""

    post_id: int
    incoming: Incoming
    content_hash: str
    permalink: str
    old_urls: list[str]
    see_also: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Skipped:
    post_id: int
    title: str
    reason: str


def map_post(post: SourcePost, site: Site, options: Options, now: datetime) -> Mapped | Skipped:
    title = _plain(post.title)
    if post.post_type != "post":
        return Skipped(post.post_id, title, f"a {post.post_type}, not a post")
    if post.status in _SKIPPED_STATUSES:
        return Skipped(post.post_id, title, _SKIPPED_STATUSES[post.status])
    status = STATUSES.get(post.status)
    if status is None:
        return Skipped(post.post_id, title, f"unknown status {post.status!r}")
    language = options.language or _language(site.language)
    if language is None:
        return Skipped(post.post_id, title, "no language: the site names none, pass --language")
    notes: list[str] = []
    if post.password and status in ("published", "scheduled"):
        status = "draft"
        notes.append("password-protected in WordPress: imported as a draft")
    if post.status == "private":
        notes.append("private in WordPress: imported as a draft")
    converted = blocks.convert(post.content, blocks.Where(site.url, post.media, post.children))
    notes.extend(converted.notes)
    body = list(converted.body)
    if post.featured is not None:
        featured = blocks.convert(
            f'<img src="{html.escape(post.featured.url)}" alt="{html.escape(post.featured.alt)}">',
            blocks.Where(site.url),
        )
        image = next((b for b in featured.body if isinstance(b, Image)), None)
        if image is not None:
            caption = post.featured.caption.strip() or None
            body.insert(0, image.model_copy(update={"caption": caption}))
        else:
            notes.append(f"featured image URL {post.featured.url[:200]!r} unusable: left out")
    if not title:
        title = f"WordPress post {post.post_id}"
        notes.append("no title in WordPress: named after its post id")
    date = post.date_gmt
    if status in ("published", "scheduled") and date is None:
        date = now
        notes.append("no publication date in WordPress: dated at the import")
    section = _section(post)
    fields = {
        "title": title[:300],
        "language": language,
        "slug": wp_slug(post.post_name) or None,
        "lead": _plain(post.excerpt)[:2000],
        "body": [b.model_dump() for b in body][:1000],
        "section": section,
        "tags": [s for s in dict.fromkeys(_slug(t) for t in post.tags) if s][:50],
        "authors": [a[:200] for a in (_plain(a) for a in post.authors) if a][:20],
        "post_to_social": options.post_to_social,
    }
    try:
        create = ArticleCreate.model_validate(fields)
    except ValidationError as exc:
        return Skipped(post.post_id, title, f"does not make a valid article: {_errors(exc)}")
    incoming = Incoming(
        fields=create,
        status=status,
        published_at=date if status == "published" else None,
        publish_at=date if status == "scheduled" else None,
        created_at=post.date_gmt or date or now,
        dated=post.date_gmt is not None,
    )
    old_urls = [u for u in dict.fromkeys((post.link, f"{site.url}/?p={post.post_id}")) if u]
    return Mapped(
        post_id=post.post_id,
        incoming=incoming,
        content_hash=_hash(incoming, old_urls, converted.see_also),
        permalink=post.link,
        old_urls=old_urls,
        see_also=converted.see_also,
        notes=notes,
    )


def wp_slug(post_name: str) -> str:
    """WordPress keeps a non-ASCII slug percent-encoded (`gr%c3%bc%c3%9fe`): decoded, then
    transliterated as our own slugs are (ü → ue, ß → ss)."""
    return slug_from_title(unquote(post_name.strip()))


def _slug(term: Term) -> str:
    return wp_slug(term.slug) or slug_from_title(html.unescape(term.name))


def _section(post: SourcePost) -> str | None:
    """The primary category (Yoast's, when set), else the first; "Uncategorized" is no section."""
    for term in [t for t in (post.primary_category, *post.categories) if t is not None]:
        slug = _slug(term)
        if slug and slug not in _NO_SECTION:
            return slug
    return None


def _language(site_language: str | None) -> str | None:
    """WordPress names a locale (`de-DE`, `de_DE`): the language is its first part."""
    if not site_language:
        return None
    primary = site_language.replace("_", "-").split("-")[0].strip().lower()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _plain(markup: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", markup)).split())


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)
    )[:500]


def _hash(incoming: Incoming, old_urls: list[str], see_also: list[str]) -> str:
    """Over everything the import takes from the post: a second run with the same hash has
    nothing to do. A date the import made up (the post had none) is not the post's: left out."""
    dated = incoming.dated
    data = {
        "fields": incoming.fields.model_dump(mode="json"),
        "status": incoming.status,
        "published_at": incoming.published_at if dated else None,
        "publish_at": incoming.publish_at if dated else None,
        "created_at": incoming.created_at if dated else None,
        "urls": old_urls,
        "see_also": see_also,
    }
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
