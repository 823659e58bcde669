"""Pure text rules: inline HTML sanitising and slugs from titles."""

from __future__ import annotations

import unicodedata

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


def slug_from_title(title: str) -> str:
    # NFD input would skip the replacements (a + combining diaeresis is not "ä").
    normal = unicodedata.normalize("NFC", title)
    return slugify(normal, replacements=_GERMAN, max_length=SLUG_MAX, word_boundary=True)
