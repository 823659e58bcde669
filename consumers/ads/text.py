"""The plain text of an article, by where it stands on the page (pure)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal

import nh3

from cms.events.contract import Article, Block, Heading, Image, ListBlock, Paragraph, Quote

Where = Literal["title", "lead", "tags", "heading", "body"]

_WORD = re.compile(r"\w+(?:[-'\u2019]\w+)*")  # joined by - ' or a typographic apostrophe


def plain(inline_html: str) -> str:
    """Inline HTML to text: tags dropped (their text kept), entities decoded."""
    return html.unescape(nh3.clean(inline_html, tags=set()))


def block_text(block: Block) -> str:
    match block:
        case Paragraph(text=text) | Heading(text=text):
            return plain(text)
        case Quote(text=text, attribution=attribution):
            return f"{plain(text)} {attribution or ''}".strip()
        case ListBlock(items=items):
            return " ".join(plain(item) for item in items)
        case Image(caption=caption, alt=alt):
            return f"{plain(caption or '')} {alt}".strip()
    return ""


def word_count(text: str) -> int:
    """Words as a reader counts them: "US-Verteidigungsminister" is one."""
    return len(_WORD.findall(text))


def body_words(article: Article) -> int:
    return sum(word_count(block_text(block)) for block in article.body)


@dataclass(frozen=True)
class Passage:
    where: Where
    text: str


def passages(article: Article) -> list[Passage]:
    """Every piece of text with its place: brand safety weighs a title above a body mention."""
    found = [
        Passage("title", article.title),
        Passage("lead", article.lead),
        Passage("tags", " ".join(tag.replace("-", " ") for tag in article.tags)),
    ]
    for block in article.body:
        found.append(Passage("heading" if isinstance(block, Heading) else "body", block_text(block)))
    return [passage for passage in found if passage.text]
