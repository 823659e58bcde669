"""WordPress shortcodes in classic posts: `[caption …]<img …> text[/caption]`, `[gallery ids="1,2"]`,
`[embed]URL[/embed]`, `[video src=…]`, `[audio …]`, and the many a plugin registers.

The pattern follows WordPress's `get_shortcode_regex()` (wp-includes/shortcodes.php): a name, its
attributes, then either a self-closing `/]`, or content up to the matching `[/name]`; `[[x]]` is
an escaped shortcode shown as `[x]`. An unknown name is taken for a shortcode only when it has
attributes or a closing tag, so "[sic]" or "[1]" in a sentence stay text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

KNOWN = ("caption", "wp_caption", "gallery", "embed", "video", "audio", "playlist")

_SHORTCODE = re.compile(
    r"\[(?P<escape_open>\[?)(?P<name>[A-Za-z][\w-]*)(?![\w-])"
    r"(?P<attrs>[^\]/]*(?:/(?!\])[^\]/]*)*?)"
    r"(?:(?P<self>/)\]|\](?:(?P<content>[^\[]*+(?:\[(?!/(?P=name)\])[^\[]*+)*+)\[/(?P=name)\])?)"
    r"(?P<escape_close>\]?)",
)
_ATTR = re.compile(
    r"""([\w-]+)\s*=\s*"([^"]*)"(?:\s|$)|([\w-]+)\s*=\s*'([^']*)'(?:\s|$)|([\w-]+)\s*=\s*([^\s'"]+)(?:\s|$)"""
    r"""|"([^"]*)"(?:\s|$)|'([^']*)'(?:\s|$)|(\S+)(?:\s|$)"""
)


@dataclass(frozen=True)
class Shortcode:
    name: str
    attrs: dict[str, str]
    content: str | None
    text: str  # the whole shortcode as written


def attributes(text: str) -> dict[str, str]:
    """`shortcode_parse_atts`: named values by lowercase name, positional ones by index."""
    found: dict[str, str] = {}
    position = 0
    for match in _ATTR.finditer(text.replace("\u00a0", " ").replace("\u200b", " ")):
        groups = match.groups()
        for name_at in (0, 2, 4):
            if groups[name_at]:
                found[groups[name_at].lower()] = html.unescape(groups[name_at + 1])
                break
        else:
            value = next(g for g in groups[6:] if g is not None)
            found[str(position)] = value
            position += 1
    return found


def replace(content: str, convert: Callable[[Shortcode], str]) -> str:
    """`content` with each shortcode replaced by what `convert` makes of it."""

    def one(match: re.Match[str]) -> str:
        if match["escape_open"] and match["escape_close"]:
            return match.group(0)[1:-1]  # [[caption]] is the text "[caption]"
        name = match["name"].lower()
        attrs_text = match["attrs"] or ""
        content_ = match["content"]
        if name not in KNOWN and not (content_ is not None or "=" in attrs_text):
            return match.group(0)
        text = match.group(0)
        if match["escape_close"] and not match["escape_open"]:
            text = text[:-1]
        converted = convert(Shortcode(name, attributes(attrs_text), content_, text))
        return converted + ("]" if match["escape_close"] and not match["escape_open"] else "")

    return _SHORTCODE.sub(one, content)
