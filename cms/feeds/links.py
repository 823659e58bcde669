"""Where an article lives on the site: CMS_PUBLIC_URL plus the URL pattern setting."""

from __future__ import annotations

import uuid
from urllib.parse import quote


def article_url(
    public_url: str, pattern: str, *, section: str | None, slug: str, article_id: uuid.UUID, language: str
) -> str:
    """e.g. `https://example.org/world/some-slug` for "/{section}/{slug}"; an empty segment (an
    article without a section) is dropped rather than leaving `//` in the path."""
    path = pattern.format(section=section or "", slug=slug, id=article_id, language=language)
    path = "/" + "/".join(segment for segment in path.split("/") if segment)
    return public_url.rstrip("/") + quote(path, safe="/:@-._~!$&'()*+,;=%")


def public(public_url: str, path: str) -> str:
    """A path of this API as readers and crawlers reach it, on CMS_PUBLIC_URL."""
    return public_url.rstrip("/") + path
