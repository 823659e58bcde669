"""Bluesky rich text: facets say which UTF-8 byte ranges of the text are links or hashtags.

Offsets are in bytes of UTF-8, not characters: "Grüße https://…" puts the link at byte 8,
not 6. The PDS does not check them, so a wrong offset silently links the wrong text.
"""

from __future__ import annotations

from typing import Any

import regex

from consumers.social.counting import LINK

_HASHTAG = regex.compile(r"(?<!\S)#(\w*[^\W\d_]\w*)")
_LINK_TAIL = regex.compile(r"[.,;:!?)\]}\u00bb\u201d\u2019\"']+$")
MAX_TAG_GRAPHEMES = 64


def facets(text: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for match in LINK.finditer(text):
        url = _LINK_TAIL.sub("", match.group())
        found.append(_facet(text, match.start(), match.start() + len(url), link=url))
    for match in _HASHTAG.finditer(text):
        tag = match.group(1)
        if len(regex.findall(r"\X", tag)) <= MAX_TAG_GRAPHEMES:
            found.append(_facet(text, match.start(), match.end(), tag=tag))
    return sorted(found, key=lambda facet: int(facet["index"]["byteStart"]))


def _facet(
    text: str, start: int, end: int, *, link: str | None = None, tag: str | None = None
) -> dict[str, Any]:
    byte_start = len(text[:start].encode())
    byte_end = byte_start + len(text[start:end].encode())
    feature = (
        {"$type": "app.bsky.richtext.facet#link", "uri": link}
        if link is not None
        else {"$type": "app.bsky.richtext.facet#tag", "tag": tag}
    )
    return {"index": {"byteStart": byte_start, "byteEnd": byte_end}, "features": [feature]}
