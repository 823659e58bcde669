"""A post's content as our blocks: Gutenberg block markup, or classic HTML with shortcodes and
`wpautop` paragraphs (a blank line ends a paragraph, a single newline is a `<br>`).

What has no block of ours (a table, a button, a plugin's block) is kept as a paragraph of its
text and named in the notes; what has no text (a separator, a spacer) is left out and named too.
Nothing is dropped without a note. Inline HTML is sanitised later, by the article model, as for
any write.

"See also" paragraphs whose links all point into the imported site are taken out of the body:
their links become the article's `related` once every post is in.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from cms.articles.text import check_url
from cms.events.contract import Block, Embed, Heading, Image, ListBlock, Paragraph, Quote
from cms.importers.wordpress import gutenberg, shortcodes
from cms.importers.wordpress.source import Media

# Where a paragraph ends in wpautop: these elements stand on their own.
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "center", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "iframe", "li", "main", "nav", "ol", "p", "pre", "section", "table", "ul", "video", "audio",
    "object", "embed", "script", "style", "noscript", "wp-shortcode", "img",
}  # fmt: skip
_CONTAINERS = {"div", "section", "article", "main", "center", "header", "footer", "aside", "details"}
_DROPPED_SILENTLY = {"script", "style", "noscript"}
_LAYOUT_BLOCKS = {"core/separator", "core/spacer", "core/more", "core/nextpage"}
_CONTAINER_BLOCKS = {"core/group", "core/columns", "core/column", "core/row", "core/stack"}
_SEE_ALSO = re.compile(
    r"^\s*(siehe auch|lesen sie auch|mehr zum thema|das könnte sie auch interessieren|see also|"
    r"read also|read more|related|voir aussi|lire aussi|à lire aussi)\b\s*:?",
    re.IGNORECASE,
)
# Hosts whose links WordPress turns into an embed when they stand alone on a line (its oEmbed
# providers, the ones a newsroom meets).
_OEMBED_HOSTS = re.compile(
    r"(^|\.)(youtube\.com|youtu\.be|vimeo\.com|twitter\.com|x\.com|instagram\.com|facebook\.com|"
    r"soundcloud\.com|spotify\.com|tiktok\.com|flickr\.com|dailymotion\.com|reddit\.com|"
    r"scribd\.com|slideshare\.net|ted\.com|tumblr\.com|mixcloud\.com|bsky\.app|mastodon\.social)$"
)
_BLANK_LINE = re.compile(r"\n\s*\n")


@dataclass
class Converted:
    """The body, what could not be mapped (per post, for the report) and the "see also" links."""

    body: list[Block] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    see_also: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Where:
    """What a conversion needs to know of the site: its URL, and its attachments."""

    site_url: str
    media: dict[int, Media] = field(default_factory=dict)
    children: list[Media] = field(default_factory=list)


def convert(content: str, where: Where) -> Converted:
    out = _Out(where, Converted())
    if gutenberg.has_blocks(content):
        for block in gutenberg.parse(content):
            out.block(block)
    else:
        out.classic(content)
    out.result.body = _take_see_also(out.result, where)
    return out.result


class _Out:
    def __init__(self, where: Where, result: Converted) -> None:
        self.where = where
        self.result = result

    def add(self, block: Block) -> None:
        self.result.body.append(block)

    def note(self, text: str) -> None:
        if text not in self.result.notes:
            self.result.notes.append(text)

    # Gutenberg -------------------------------------------------------------------------------

    def block(self, block: gutenberg.Block) -> None:
        name = block.name
        if name is None or name == "core/freeform":
            self.classic(block.html())
        elif name in _CONTAINER_BLOCKS:
            for inner in block.inner:
                self.block(inner)
        elif name in _LAYOUT_BLOCKS:
            if name in ("core/separator", "core/spacer"):
                self.note(f"{name} left out (layout only, no text)")
        elif name == "core/paragraph":
            self.elements(_fragment(block.html()))
        elif name == "core/heading":
            self.elements(_fragment(block.html()), level=_int(block.attrs.get("level")))
        elif name in ("core/quote", "core/pullquote"):
            self.quote(_fragment(block.html()))
        elif name == "core/list" or name == "core/image":
            self.elements(_fragment(block.html()))
        elif name == "core/gallery":
            self.gallery_block(block)
        elif name == "core/embed" or name.startswith("core-embed/"):
            self.embed(str(block.attrs.get("url") or _text(_fragment(block.html()))).strip(), name)
        elif name in ("core/video", "core/audio"):
            self.media_block(block)
        elif name == "core/html" or name == "core/shortcode":
            self.classic(block.html())
        else:
            self.as_text(
                _fragment(block.html()), f"{name} has no block here: kept as a paragraph of its text"
            )

    def gallery_block(self, block: gutenberg.Block) -> None:
        if block.inner:
            for inner in block.inner:
                self.block(inner)
            return
        ids = block.attrs.get("ids")
        if isinstance(ids, list) and ids:
            self.gallery([str(i) for i in ids])
        else:
            self.elements(_fragment(block.html()))

    def media_block(self, block: gutenberg.Block) -> None:
        root = _fragment(block.html())
        source = next((el.get("src") for el in root.iter("video", "audio", "source") if el.get("src")), None)
        if source:
            self.embed(source, block.name or "media")
        else:
            self.as_text(root, f"{block.name} without a source: kept as a paragraph of its text")

    # Classic ---------------------------------------------------------------------------------

    def classic(self, content: str) -> None:
        made: list[list[Block]] = []

        def placeholder(code: shortcodes.Shortcode) -> str:
            inner = _Out(self.where, Converted(notes=self.result.notes))
            inner.shortcode(code)
            made.append(inner.result.body)
            return f'<wp-shortcode data-n="{len(made) - 1}"></wp-shortcode>'

        root = _fragment(shortcodes.replace(content, placeholder))
        self.elements(root, made=made)

    def shortcode(self, code: shortcodes.Shortcode) -> None:
        if code.name in ("caption", "wp_caption"):
            self.caption(code)
        elif code.name == "gallery":
            ids = [
                i.strip()
                for i in code.attrs.get("ids", code.attrs.get("include", "")).split(",")
                if i.strip()
            ]
            if ids:
                self.gallery(ids)
            elif self.where.children:
                for media in self.where.children:
                    self.image(media.url, media.alt, media.caption or None)
            else:
                self.note("[gallery] without images found: left out")
        elif code.name == "embed":
            self.embed((code.content or code.attrs.get("src", "")).strip(), "[embed]")
        elif code.name in ("video", "audio"):
            source = code.attrs.get("src") or next(
                (v for k, v in code.attrs.items() if k in ("mp4", "webm", "ogv", "mp3", "ogg", "m4a", "wav")),
                "",
            )
            self.embed(source.strip(), f"[{code.name}]")
        else:
            text = html.unescape(_text(_fragment(code.content or "")))
            self.note(f"shortcode [{code.name}] has no block here: its text kept")
            if text.strip():
                self.add(Paragraph(text=html.escape(text.strip(), quote=False)))

    def caption(self, code: shortcodes.Shortcode) -> None:
        root = _fragment(code.content or "")
        image = next(root.iter("img"), None)
        if image is None:
            self.as_text(root, "[caption] without an image: kept as a paragraph of its text")
            return
        for element in list(root.iter("img", "a")):
            if element.tag == "a" and element.find(".//img") is None:
                continue
            _drop_keep_tail(element)
        caption = code.attrs.get("caption") or _inner_html(root).strip()
        self.image(image.get("src", ""), image.get("alt", ""), caption or None)

    def gallery(self, ids: list[str]) -> None:
        for raw in ids:
            media = self.where.media.get(int(raw)) if raw.isdigit() else None
            if media is None:
                self.note(f"gallery image {raw} not found among the attachments: left out")
                continue
            self.image(media.url, media.alt, media.caption or None)

    # HTML ------------------------------------------------------------------------------------

    def elements(self, root: Any, *, level: int | None = None, made: list[list[Block]] | None = None) -> None:
        """wpautop over the children of `root`: inline runs become paragraphs, block-level
        elements become blocks."""
        run: list[str] = [_escape(root.text or "")]
        for child in root:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _BLOCK_TAGS:
                self.run(run)
                run = []
                self.element(child, level=level, made=made)
            elif tag:
                run.append(_outer_html(child))
            run.append(_escape(child.tail or ""))
        self.run(run)

    def run(self, pieces: list[str]) -> None:
        text = "".join(pieces)
        for chunk in _BLANK_LINE.split(text):
            chunk = chunk.strip()
            if not chunk:
                continue
            alone = _lone_url(chunk)
            if alone is not None and _OEMBED_HOSTS.search(urlsplit(alone).hostname or ""):
                self.embed(alone, "a link alone on its line")
                continue
            self.paragraph(chunk.replace("\n", "<br>"))

    def element(self, el: Any, *, level: int | None = None, made: list[list[Block]] | None = None) -> None:
        tag = el.tag
        if tag == "wp-shortcode":
            if made is not None:
                for block in made[int(el.get("data-n", "0"))]:
                    self.add(block)
        elif tag == "p":
            self.p(el)
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = _inner_html(el).strip()
            if text:
                self.add(Heading(text=text, level=min(max(level or int(tag[1]), 2), 4)))
        elif tag == "blockquote":
            self.quote(el)
        elif tag in ("ul", "ol"):
            items = [_inner_html(li).strip() for li in el if li.tag == "li"]
            if any(items):
                self.add(ListBlock(items=[i for i in items if i], ordered=tag == "ol"))
        elif tag == "figure":
            self.figure(el)
        elif tag == "img":
            self.image(el.get("src", ""), el.get("alt", ""), None)
        elif tag == "iframe":
            self.embed(el.get("src", ""), "iframe")
        elif tag in ("video", "audio"):
            self.media_element(el)
        elif tag == "hr":
            self.note("a horizontal rule left out (layout only, no text)")
        elif tag in _CONTAINERS:
            self.elements(el, level=level, made=made)
        elif tag in _DROPPED_SILENTLY:
            self.note(f"<{tag}> left out (scripts and styles are never imported)")
        else:
            self.as_text(el, f"<{tag}> has no block here: kept as a paragraph of its text")

    def p(self, el: Any) -> None:
        images = list(el.iter("img"))
        if images and not _text(el).strip():
            for image in images:
                self.image(image.get("src", ""), image.get("alt", ""), None)
            return
        # wpautop leaves a <br> where the source had a newline; a blank line inside a <p> is
        # already a paragraph break WordPress would have made.
        self.run([_inner_html(el)])

    def quote(self, el: Any) -> None:
        cite = next(iter(el.iter("cite", "footer")), None)
        attribution = _text(cite).strip() if cite is not None else ""
        if cite is not None:
            _drop_keep_tail(cite)
        paragraphs = [_inner_html(p).strip() for p in el.iter("p")]
        text = "<br><br>".join(p for p in paragraphs if p) if paragraphs else _inner_html(el).strip()
        if text:
            self.add(Quote(text=text, attribution=attribution[:2000] or None))
        elif attribution:
            self.add(Paragraph(text=html.escape(attribution, quote=False)))

    def figure(self, el: Any) -> None:
        image = next(el.iter("img"), None)
        caption_el = next(el.iter("figcaption"), None)
        caption = _inner_html(caption_el).strip() if caption_el is not None else ""
        if image is not None:
            self.image(image.get("src", ""), image.get("alt", ""), caption or None)
            return
        frame = next(el.iter("iframe"), None)
        if frame is not None:
            self.embed(frame.get("src", ""), "iframe")
            return
        wrapped = _text(el if caption_el is None else _without(el, caption_el)).strip()
        if _lone_url(wrapped):
            self.embed(wrapped, "figure")
            return
        blockquote = next(el.iter("blockquote"), None)
        if blockquote is not None:
            self.quote(el)
            return
        self.elements(el)

    def media_element(self, el: Any) -> None:
        source = el.get("src") or next((s.get("src") for s in el.iter("source") if s.get("src")), "")
        self.embed(source, f"<{el.tag}>")

    def paragraph(self, text: str) -> None:
        if _text(_fragment(text)).strip() or "<img" in text:
            self.add(Paragraph(text=text))

    def image(self, url: str, alt: str, caption: str | None) -> None:
        absolute = _absolute(url, self.where.site_url)
        if absolute is None:
            self.note(f"an image with an unusable URL {url[:200]!r}: kept its text only")
            words = " ".join(t for t in (alt, caption or "") if t).strip()
            if words:
                self.add(Paragraph(text=html.escape(words, quote=False)))
            return
        self.add(Image(url=absolute, alt=_plain(alt)[:2000], caption=caption or None))

    def embed(self, url: str, what: str) -> None:
        absolute = _absolute(url, self.where.site_url)
        if absolute is None:
            self.note(f"{what}: {url[:200]!r} is not a usable URL: kept as text")
            if url.strip():
                self.add(Paragraph(text=html.escape(url.strip(), quote=False)))
            return
        self.add(Embed(url=absolute))

    def as_text(self, el: Any, note: str) -> None:
        self.note(note)
        rows = list(el.iter("tr"))
        if rows:  # a table: a paragraph per row, its cells apart
            for row in rows:
                cells = [" ".join(_text(cell).split()) for cell in row if cell.tag in ("td", "th")]
                if any(cells):
                    self.add(Paragraph(text=html.escape(" | ".join(cells), quote=False)))
            return
        for chunk in _BLANK_LINE.split(_text(el)):
            if chunk.strip():
                self.add(Paragraph(text=html.escape(" ".join(chunk.split()), quote=False)))


def _take_see_also(result: Converted, where: Where) -> list[Block]:
    """The body without its "see also" paragraphs (and lists under a "see also" heading) whose
    links all point into the site; their links go to `result.see_also`."""
    host = _host(where.site_url)
    kept: list[Block] = []
    under_heading = False
    for block in result.body:
        if isinstance(block, Heading):
            under_heading = bool(_SEE_ALSO.match(_text(_fragment(block.text))))
            if under_heading:
                continue
        elif isinstance(block, Paragraph) and _SEE_ALSO.match(_text(_fragment(block.text))):
            links = _links(block.text)
            if links and all(_host(link) == host for link in links):
                result.see_also.extend(links)
                continue
        elif isinstance(block, ListBlock) and under_heading:
            links = [link for item in block.items for link in _links(item)]
            if links and all(_host(link) == host for link in links):
                result.see_also.extend(links)
                continue
        under_heading = False
        kept.append(block)
    return kept


def _links(fragment: str) -> list[str]:
    return [a.get("href", "") for a in _fragment(fragment).iter("a") if a.get("href")]


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


# lxml helpers ----------------------------------------------------------------------------------


def _fragment(markup: str) -> Any:
    """`markup` parsed as the children of one <div> (lxml's HTML parser: no network, no DTD)."""
    if not markup.strip():
        return lxml.html.fragment_fromstring("<div></div>")
    try:
        return lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        div = lxml.html.fragment_fromstring("<div></div>")
        div.text = markup
        return div


def _inner_html(el: Any) -> str:
    return _escape(el.text or "") + "".join(_outer_html(child) + _escape(child.tail or "") for child in el)


def _outer_html(el: Any) -> str:
    if not isinstance(el.tag, str):
        return ""
    return str(lxml.html.tostring(el, encoding="unicode", with_tail=False))


def _text(el: Any) -> str:
    return str(el.text_content())


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _plain(markup: str) -> str:
    return " ".join(html.unescape(_text(_fragment(markup))).split())


def _drop_keep_tail(el: Any) -> None:
    parent = el.getparent()
    if parent is None:
        return
    previous = el.getprevious()
    tail = el.tail or ""
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(el)


def _without(el: Any, gone: Any) -> Any:
    _drop_keep_tail(gone)
    return el


def _lone_url(text: str) -> str | None:
    candidate = _plain(text) if "<" in text else html.unescape(text.strip())
    if " " in candidate or not candidate.startswith(("http://", "https://")):
        return None
    return candidate


def _absolute(url: str, site_url: str) -> str | None:
    url = html.unescape(url.strip())
    if not url:
        return None
    if url.startswith("//"):
        url = "https:" + url
    elif not urlsplit(url).scheme and site_url:
        url = urljoin(site_url + "/", url)
    try:
        return check_url(url)
    except ValueError:
        return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
