"""Text for XML documents: what XML 1.0 cannot carry is dropped, and an article's body becomes
HTML for a feed reader. Pure functions."""

from __future__ import annotations

import html
import re
from typing import Any

from pydantic import TypeAdapter

from cms.events.contract import Block, Embed, Heading, Image, ListBlock, Paragraph, Quote

# XML 1.0's Char production: controls other than tab, LF and CR, lone surrogates and U+FFFE/F
# are not allowed anywhere in a document. A title may hold one (only NUL is refused on input);
# lxml would raise on it, and a hand-written document would be rejected by every parser.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BLOCKS: TypeAdapter[list[Block]] = TypeAdapter(list[Block])


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def escape(text: str) -> str:
    """Plain text as HTML (and as XML character data or an attribute value)."""
    return html.escape(xml_safe(text), quote=True)


def body_html(body: list[Any]) -> str:
    """The body blocks as HTML. Inline HTML (paragraphs, headings, quotes, list items, captions)
    was sanitised on the way in and goes in as it is; every plain field is escaped."""
    return "\n".join(_block_html(block) for block in _BLOCKS.validate_python(body))


def _block_html(block: Block) -> str:
    match block:
        case Paragraph():
            return f"<p>{xml_safe(block.text)}</p>"
        case Heading():
            return f"<h{block.level}>{xml_safe(block.text)}</h{block.level}>"
        case Quote():
            cite = f"<footer>{escape(block.attribution)}</footer>" if block.attribution else ""
            return f"<blockquote><p>{xml_safe(block.text)}</p>{cite}</blockquote>"
        case ListBlock():
            tag = "ol" if block.ordered else "ul"
            items = "".join(f"<li>{xml_safe(item)}</li>" for item in block.items)
            return f"<{tag}>{items}</{tag}>"
        case Image():
            notes = [xml_safe(block.caption)] if block.caption else []
            if block.credit:
                notes.append(escape(block.credit))
            caption = f"<figcaption>{' '.join(notes)}</figcaption>" if notes else ""
            return f'<figure><img src="{escape(block.url)}" alt="{escape(block.alt)}">{caption}</figure>'
        case Embed():
            return f'<p><a href="{escape(block.url)}">{escape(block.url)}</a></p>'
