"""Pure text rules: inline HTML sanitising and slugs from titles."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

import nh3
from slugify import slugify

INLINE_TAGS = {"b", "i", "em", "strong", "a", "br"}
# "*" empty: ammonia would otherwise keep `lang` and `title` on every tag.
_ATTRIBUTES: dict[str, set[str]] = {"a": {"href"}, "*": set()}
_URL_SCHEMES = {"http", "https", "mailto"}
_GERMAN = [["ä", "ae"], ["ö", "oe"], ["ü", "ue"], ["ß", "ss"], ["Ä", "Ae"], ["Ö", "Oe"], ["Ü", "Ue"]]
SLUG_MAX = 120


def sanitize_inline(html: str) -> str:
    """Keep the inline subset (b, i, em, strong, a[href], br); drop the rest, scripts with their text."""
    return nh3.clean(
        html,
        tags=INLINE_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


MAX_URL = 2048
# Whitespace, controls, quotes, angle brackets and backslashes have no place in a URL we store:
# each one is how a value breaks out of an HTML attribute, a header or a log line downstream.
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\"'<>\\`]")
# Dot-separated labels of letters, digits and inner hyphens (any script: IDNs are fine).
_DOMAIN = re.compile(r"^(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)*[^\W_](?:[\w-]{0,61}[^\W_])?\.?$")


def check_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL with a host, and nothing a renderer could trip on:
    no whitespace, quotes, angle brackets or credentials. Raises ValueError naming the fault."""
    if len(url) > MAX_URL:
        raise ValueError(f"a URL may be at most {MAX_URL} characters")
    if _URL_FORBIDDEN.search(url):
        raise ValueError("a URL may not contain whitespace, control characters, quotes, <, > or \\")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
    except ValueError:
        raise ValueError("not a URL") from None
    if parts.scheme not in {"http", "https"}:
        raise ValueError("a URL must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL may not carry a user name or password")
    if not parts.hostname or not (_DOMAIN.match(parts.hostname) or _is_ip(parts.hostname)):
        raise ValueError("a URL must name a host")
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# What a browser reads as the start of a tag, a comment or a processing instruction (HTML
# tokenizer: "<" directly followed by a letter, "/", "!" or "?"). "a < b" is text.
_MARKUP = re.compile(r"<[A-Za-z/!?]")


def check_plain(text: str) -> str:
    """`text` if it holds no markup. Plain-text fields (title, lead, alt, credit, attribution,
    authors) are shown as they are by every channel; only the documented fields carry HTML."""
    if _MARKUP.search(text):
        raise ValueError("plain text: markup is not allowed here (use the text of a paragraph for HTML)")
    return text


def slug_from_title(title: str) -> str:
    # NFD input would skip the replacements (a + combining diaeresis is not "ä").
    normal = unicodedata.normalize("NFC", title)
    return slugify(normal, replacements=_GERMAN, max_length=SLUG_MAX, word_boundary=True)
