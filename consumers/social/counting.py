"""How each network counts a post's length: pure functions over text.

- Mastodon counts grapheme clusters, every `http(s)://` link as 23 (its StatusLengthValidator
  replaces each URL by 23 placeholder characters, then counts `each_grapheme_cluster`).
- Bluesky counts graphemes (300) and also caps the text at 3000 UTF-8 bytes (the lexicon's
  `maxGraphemes` and `maxLength`); links count as written.
- The X-style profile (twitter-text v3) weighs code points after NFC: 1 for Latin and other
  light ranges, 2 for the rest (CJK, ...), an emoji sequence 2 as a whole, a link 23; limit 280.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import regex

GRAPHEME = regex.compile(r"\X")
LINK = regex.compile(r"https?://[^\s]+")
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3")
LINK_WEIGHT = 23

# twitter-text v3 configuration: code points in these ranges weigh 1, all others 2.
_LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))


def graphemes(text: str) -> list[str]:
    found: list[str] = GRAPHEME.findall(text)
    return found


def _split_links(text: str) -> tuple[list[str], int]:
    """The text between links, and how many links there were."""
    return LINK.split(text), len(LINK.findall(text))


def mastodon_length(text: str) -> int:
    pieces, links = _split_links(text)
    return sum(len(graphemes(piece)) for piece in pieces) + links * LINK_WEIGHT


def bluesky_length(text: str) -> int:
    return len(graphemes(text))


def _code_point_weight(char: str) -> int:
    point = ord(char)
    return 1 if any(low <= point <= high for low, high in _LIGHT) else 2


def weighted_length(text: str) -> int:
    pieces, links = _split_links(unicodedata.normalize("NFC", text))
    total = links * LINK_WEIGHT
    for piece in pieces:
        for cluster in graphemes(piece):
            if _EMOJI.search(cluster):
                total += 2
            else:
                total += sum(_code_point_weight(char) for char in cluster)
    return total


@dataclass(frozen=True)
class Profile:
    """A network's length rule: `measure(text) <= limit` (and at most `max_bytes` of UTF-8)."""

    name: str
    limit: int
    measure: Callable[[str], int]
    max_bytes: int | None = None

    def fits(self, text: str) -> bool:
        if self.max_bytes is not None and len(text.encode()) > self.max_bytes:
            return False
        return self.measure(text) <= self.limit

    def problem(self, text: str) -> str | None:
        """Why `text` does not fit, for an editor; None if it does."""
        if self.max_bytes is not None and len(text.encode()) > self.max_bytes:
            return f"{len(text.encode())} bytes of UTF-8; {self.name} allows {self.max_bytes}"
        used = self.measure(text)
        if used > self.limit:
            return f"{used} characters as {self.name} counts them; the limit is {self.limit}"
        return None


def mastodon(limit: int = 500) -> Profile:
    return Profile("mastodon", limit, mastodon_length)


BLUESKY = Profile("bluesky", 300, bluesky_length, max_bytes=3000)
X_STYLE = Profile("x-style", 280, weighted_length)
