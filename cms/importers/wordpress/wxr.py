"""Reading a WordPress export (WXR 1.0 to 1.2), streamed, with a parser that trusts nothing.

The file is read twice. The survey reads all of it and writes nothing: it refuses a hostile or
broken file (a DOCTYPE, which is where entity expansion and external entities live; a text node
over libxml2's 10 MB limit; nesting deeper than 256; anything not well-formed) before a single
article is written, so a refused file changes nothing. It also learns what the posts refer to
(authors, terms, attachments) and how many posts there are, for the progress bar. The second
read yields the posts one by one. Each `<item>` is dropped as soon as it is read, so memory
follows the largest post, not the file; only the small attachment and author tables are kept.

Real exports spell their namespaces `http://wordpress.org/export/1.2/` or `https://…`, and
1.0 or 1.1 instead of 1.2: a namespace is recognised by its shape, not by one spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from lxml import etree

from cms.importers.wordpress.source import Media, Site, SourcePost, Term

SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2")


class Refused(Exception):
    """The file is not something to import: why, in words an operator can act on."""


_NAMESPACES = [
    (re.compile(r"^https?://wordpress\.org/export/1\.[0-9]+/excerpt/?$"), "excerpt"),
    (re.compile(r"^https?://wordpress\.org/export/1\.[0-9]+/?$"), "wp"),
    (re.compile(r"^https?://purl\.org/rss/1\.0/modules/content/?$"), "content"),
    (re.compile(r"^https?://purl\.org/dc/elements/1\.1/?$"), "dc"),
]


@dataclass
class _Names:
    """`{namespace}local` → `prefix:local`, remembered: a file uses a handful of names."""

    known: dict[str, str] = field(default_factory=dict)

    def __call__(self, tag: Any) -> str:
        if not isinstance(tag, str):
            return ""  # a comment or a processing instruction
        found = self.known.get(tag)
        if found is None:
            found = self.known[tag] = _name(tag)
        return found


def _name(tag: str) -> str:
    if not tag.startswith("{"):
        return tag
    namespace, local = tag[1:].split("}", 1)
    for pattern, prefix in _NAMESPACES:
        if pattern.match(namespace):
            return f"{prefix}:{local}"
    return f"?:{local}"


@dataclass
class Survey:
    """What the first read learned: the site, who wrote, the terms and attachments, the count."""

    site: Site
    version: str
    authors: dict[str, str]
    terms: dict[int, Term]
    media: dict[int, Media]
    children: dict[int, list[int]]
    items: int
    posts: int


def _events(path: Path) -> Iterator[tuple[str, Any]]:
    """(end, element) of every element, from a parser that resolves no entity, loads no DTD,
    reaches no network and keeps libxml2's limits on text size and depth."""
    try:
        source = path.open("rb")
    except OSError as exc:
        raise Refused(f"cannot read {path}: {exc.strerror or exc}") from None
    # Our own file object, closed however the read ends (lxml leaves its own open on an early stop).
    with source:
        parser = etree.iterparse(
            source,
            events=("end",),
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            dtd_validation=False,
            remove_comments=True,
            remove_pis=True,
        )
        checked = False
        try:
            for event, element in parser:
                if not checked:
                    _refuse_doctype(element)
                    checked = True
                yield event, element
        except etree.XMLSyntaxError as exc:
            raise Refused(f"not a well-formed, safe XML file: {_reason(exc)}") from None


def _refuse_doctype(element: Any) -> None:
    info = element.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.system_url or info.public_id:
        raise Refused(
            "the file declares a DOCTYPE (where entity expansion and external entities live); "
            "a WordPress export has none, so it is refused and nothing was imported"
        )


def _reason(exc: etree.XMLSyntaxError) -> str:
    message = str(exc.msg or exc)
    if "huge" in message.lower() or "too long" in message.lower() or "depth" in message.lower():
        return f"{message} (a node larger than 10 MB, or nested deeper than 256, is refused)"
    return message


def _release(element: Any) -> None:
    """Forget a read element and the siblings before it: the tree stays one item deep."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def survey(path: Path) -> Survey:
    """Read the whole file once, writing nothing: refuse it, or learn what the posts refer to."""
    name = _Names()
    site: dict[str, str] = {}
    authors: dict[str, str] = {}
    terms: dict[int, Term] = {}
    media: dict[int, Media] = {}
    children: dict[int, list[int]] = {}
    items = posts = 0
    root_seen = False
    for _, element in _events(path):
        tag = name(element.tag)
        parent = element.getparent()
        if parent is None:
            root_seen = tag == "rss"
            continue
        if name(parent.tag) != "channel":
            continue
        if tag == "item":
            items += 1
            fields = _fields(element, name)
            kind = fields.get("wp:post_type", "")
            if kind == "post":
                posts += 1
            elif kind == "attachment":
                post_id = _int(fields.get("wp:post_id"))
                if post_id is not None:
                    media[post_id] = _media(fields, element, name)
                    parent_id = _int(fields.get("wp:post_parent"))
                    if parent_id:
                        children.setdefault(parent_id, []).append(post_id)
        elif tag == "wp:author":
            fields = _fields(element, name)
            login = fields.get("wp:author_login", "")
            authors[login] = fields.get("wp:author_display_name") or login
        elif tag in ("wp:category", "wp:tag", "wp:term"):
            _term(_fields(element, name), terms)
        elif tag in ("title", "link", "language", "wp:base_site_url", "wp:base_blog_url", "wp:wxr_version"):
            site[tag] = (element.text or "").strip()
        _release(element)
    if not root_seen or "wp:wxr_version" not in site:
        raise Refused("not a WordPress export: no <rss> with a <wp:wxr_version> in its channel")
    version = site["wp:wxr_version"]
    if version not in SUPPORTED_VERSIONS:
        raise Refused(
            f"WXR version {version} is not one this importer reads ({', '.join(SUPPORTED_VERSIONS)})"
        )
    url = site.get("wp:base_blog_url") or site.get("link") or site.get("wp:base_site_url") or ""
    return Survey(
        site=Site(url=url.rstrip("/"), language=site.get("language") or None, title=site.get("title", "")),
        version=version,
        authors=authors,
        terms=terms,
        media=media,
        children=children,
        items=items,
        posts=posts,
    )


def posts(path: Path, known: Survey) -> Iterator[SourcePost]:
    """Every `<item>` of the file in order (pages and attachments too: the mapping says what to
    skip and why), with authors, terms and media looked up in what the survey learned."""
    name = _Names()
    for _, element in _events(path):
        parent = element.getparent()
        if parent is None or name(element.tag) != "item" or name(parent.tag) != "channel":
            continue
        fields = _fields(element, name)
        categories = _categories(element, name)
        meta = _meta(element, name)
        _release(element)
        yield _post(fields, categories, meta, known)


def _fields(element: Any, name: _Names) -> dict[str, str]:
    """The item's simple children by `prefix:local` name (the first of each)."""
    found: dict[str, str] = {}
    for child in element:
        tag = name(child.tag)
        if tag and tag not in found and len(child) == 0:
            found[tag] = child.text or ""
    return found


def _categories(element: Any, name: _Names) -> list[tuple[str, str, str]]:
    """(domain, nicename, name) of each `<category>`: WXR 1.0 writes some without a domain."""
    return [
        (child.get("domain", "category"), child.get("nicename", ""), (child.text or "").strip())
        for child in element
        if name(child.tag) == "category"
    ]


def _meta(element: Any, name: _Names) -> dict[str, str]:
    found: dict[str, str] = {}
    for child in element:
        if name(child.tag) == "wp:postmeta":
            pair = _fields(child, name)
            found.setdefault(pair.get("wp:meta_key", ""), pair.get("wp:meta_value", ""))
    return found


def _media(fields: dict[str, str], element: Any, name: _Names) -> Media:
    meta = _meta(element, name)
    return Media(
        url=(fields.get("wp:attachment_url") or fields.get("guid") or "").strip(),
        alt=meta.get("_wp_attachment_image_alt", ""),
        caption=fields.get("excerpt:encoded", ""),
    )


def _term(fields: dict[str, str], terms: dict[int, Term]) -> None:
    term_id = _int(fields.get("wp:term_id"))
    if term_id is None:
        return
    slug = fields.get("wp:category_nicename") or fields.get("wp:tag_slug") or fields.get("wp:term_slug") or ""
    label = fields.get("wp:cat_name") or fields.get("wp:tag_name") or fields.get("wp:term_name") or slug
    terms[term_id] = Term(slug=slug, name=label)


def _post(
    fields: dict[str, str], categories: list[tuple[str, str, str]], meta: dict[str, str], known: Survey
) -> SourcePost:
    post_id = _int(fields.get("wp:post_id")) or 0
    login = fields.get("dc:creator", "").strip()
    in_category = [Term(slug, label) for domain, slug, label in categories if domain == "category"]
    tags = [Term(slug, label) for domain, slug, label in categories if domain in ("post_tag", "tag")]
    primary = known.terms.get(_int(meta.get("_yoast_wpseo_primary_category")) or -1)
    featured = known.media.get(_int(meta.get("_thumbnail_id")) or -1)
    return SourcePost(
        post_id=post_id,
        post_type=fields.get("wp:post_type", "post"),
        status=fields.get("wp:status", "draft"),
        title=fields.get("title", ""),
        content=fields.get("content:encoded", ""),
        excerpt=fields.get("excerpt:encoded", ""),
        post_name=fields.get("wp:post_name", ""),
        date_gmt=_date(fields.get("wp:post_date_gmt")) or _rfc822(fields.get("pubDate")),
        modified_gmt=_date(fields.get("wp:post_modified_gmt")),
        link=fields.get("link", "").strip(),
        guid=fields.get("guid", "").strip(),
        authors=[known.authors.get(login, login)] if login else [],
        categories=in_category,
        primary_category=primary,
        tags=tags,
        featured=featured,
        password=bool(fields.get("wp:post_password")),
        media=known.media,
        children=[known.media[i] for i in known.children.get(post_id, ()) if i in known.media],
    )


def _int(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def _date(text: str | None) -> datetime | None:
    """`2019-05-17 08:30:00` (GMT); WordPress writes zeros for a draft that never had a date."""
    text = (text or "").strip()
    if not text or text.startswith("0000"):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _rfc822(text: str | None) -> datetime | None:
    try:
        found = parsedate_to_datetime((text or "").strip())
    except (TypeError, ValueError, IndexError):
        return None
    return found.astimezone(UTC) if found.tzinfo else found.replace(tzinfo=UTC)
