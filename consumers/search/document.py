"""What the index stores of an article: pure functions, no I/O."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import nh3

from cms.events.contract import Article, Block, Heading, Image, ListBlock, Paragraph, Quote

# Our own configurations (migration 0006: PostgreSQL's, with accents folded) for the languages
# we fold; PostgreSQL's by primary language subtag for the others; `search.simple` for the
# rest (no stemming, but still word matching, accents folded).
GERMAN = "search.german"
FOLDED = {"de": GERMAN, "en": "search.english", "fr": "search.french"}
FALLBACK = "search.simple"
CONFIGS = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "el": "greek",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
} | FOLDED


# Snippets are cut from the first this many characters of lead and body: ts_headline parses
# the whole text of every hit it highlights (about 0.2 ms per 1,000 characters here), so a
# 2 MiB article on a page of hits would cost a search seconds. Most articles fit entirely.
SNIPPET_CHARS = 16_000
_WORD_TAIL = re.compile(r"\s\S*\Z")  # linear: each try stops at the next whitespace


def config_for(language: str) -> str:
    return CONFIGS.get(language.split("-")[0].lower(), FALLBACK)


@dataclass(frozen=True)
class Document:
    article_id: str
    language: str
    slug: str
    title: str
    lead: str
    body: str
    section: str | None
    tags: list[str]
    published_at: object
    version: int
    config: str

    @property
    def snippet_text(self) -> str:
        """Escaped, so the only markup a snippet can carry is the highlighting we add; the title
        when there is no other text (a breaking-news stub), so every hit has a snippet."""
        text = f"{self.lead}\n{self.body}".strip() or self.title
        return html.escape(_cut(text, SNIPPET_CHARS), quote=False)


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, ending before a word that would be cut in half."""
    if len(text) <= limit or text[limit].isspace():
        return text[:limit]
    head = text[:limit]
    tail = _WORD_TAIL.search(head)
    return head[: tail.start()] if tail else head


def document_of(article: Article) -> Document:
    return Document(
        article_id=str(article.id),
        language=article.language,
        slug=article.slug,
        title=article.title,
        lead=article.lead,
        body="\n".join(text for block in article.body for text in _texts(block)),
        section=article.section,
        tags=article.tags,
        published_at=article.published_at,
        version=article.version,
        config=config_for(article.language),
    )


def _texts(block: Block) -> list[str]:
    match block:
        case Paragraph(text=text) | Heading(text=text):
            return [_plain(text)]
        case Quote(text=text, attribution=attribution):
            return [_plain(text), attribution or ""]
        case ListBlock(items=items):
            return [_plain(item) for item in items]
        case Image(caption=caption, alt=alt):
            return [_plain(caption or ""), alt]
    return []


def _plain(inline_html: str) -> str:
    """Inline HTML to text: tags dropped (their text kept), entities decoded."""
    return html.unescape(nh3.clean(inline_html, tags=set()))
