"""What feeds and sitemaps are built with: their size, their content, and the site's URLs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from cms.platform.settings import PlatformSettings

# The sitemaps protocol's limits for one file (sitemaps.org): 50,000 URLs and 50 MB.
SITEMAP_MAX_URLS = 50_000


class FeedSettings(PlatformSettings):
    publication_name: str = Field(
        default="Newsroom", min_length=1, description="the feeds' title and the Google News publication name"
    )
    feed_items: int = Field(default=50, ge=1, le=500, description="newest live articles per feed")
    feed_content: Literal["excerpt", "full"] = Field(
        default="excerpt", description="`excerpt`: the lead only; `full`: the lead and the whole body as HTML"
    )
    feed_language: str = Field(
        default="en",
        pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$",
        description="a feed's language when no ?language= narrows it",
    )
    article_url_pattern: str = Field(
        default="/{section}/{slug}", description="path on CMS_PUBLIC_URL: {section} {slug} {id} {language}"
    )
    sitemap_page_size: int = Field(
        default=SITEMAP_MAX_URLS, ge=1, le=SITEMAP_MAX_URLS, description="URLs per sitemap page"
    )

    @field_validator("article_url_pattern")
    @classmethod
    def _known_placeholders(cls, pattern: str) -> str:
        """A typo in the pattern fails at start, not as a 500 on every feed request."""
        try:
            pattern.format(section="s", slug="s", id="i", language="l")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{section}} {{slug}} {{id}} {{language}} may appear: {exc!r}") from None
        return pattern
