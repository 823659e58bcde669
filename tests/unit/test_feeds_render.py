"""The pure parts of feeds and sitemaps: text fit for XML, body HTML, links, languages, validators."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from cms.feeds import feed, sitemap
from cms.feeds.links import article_url
from cms.feeds.settings import FeedSettings
from cms.feeds.text import body_html, xml_safe
from cms.platform import web
from cms.platform.settings import ConfigurationError, load
from tests.integration.content.feed_helpers import check_urlset, parse

ARTICLE_ID = uuid.UUID("0b7e4f1c-4d39-4a53-9a1e-2f6c7d8e9f01")


def test_text_xml_cannot_carry_is_dropped_and_the_rest_kept() -> None:
    """Controls other than tab and newlines go; umlauts, emoji and CJK stay."""
    assert xml_safe("a\x00b\x07c\x1b\tÄ\n😀中\ufffe") == "abc\tÄ\n😀中"


def test_body_html_keeps_inline_markup_and_escapes_every_plain_field() -> None:
    """Sanitised inline HTML goes in as it is; alt, credit, attribution and URLs are escaped."""
    rendered = body_html(
        [
            {"type": "paragraph", "text": "<b>fett</b> &amp; gut"},
            {"type": "quote", "text": "Zitat", "attribution": 'Er & "sie"'},
            {"type": "image", "url": "https://i.example/a.jpg?x=1&y=2", "alt": "<3 & >", "credit": "A&B"},
        ]
    )

    assert "<p><b>fett</b> &amp; gut</p>" in rendered
    assert "<footer>Er &amp; &quot;sie&quot;</footer>" in rendered
    assert 'src="https://i.example/a.jpg?x=1&amp;y=2" alt="&lt;3 &amp; &gt;"' in rendered
    assert "<figcaption>A&amp;B</figcaption>" in rendered


def test_article_url_follows_the_pattern_and_drops_an_empty_section() -> None:
    """`/{section}/{slug}` without a section is `/{slug}`, never `//`; other placeholders fill in."""

    def url(base: str, pattern: str, section: str | None) -> str:
        return article_url(
            base, pattern, section=section, slug="eu-verbietet", article_id=ARTICLE_ID, language="de"
        )

    assert url("https://n.example/", "/{section}/{slug}", "world") == "https://n.example/world/eu-verbietet"
    assert url("https://n.example", "/{section}/{slug}", None) == "https://n.example/eu-verbietet"
    assert url("https://n.example", "/{language}/a/{id}", None) == f"https://n.example/de/a/{ARTICLE_ID}"


def test_a_url_pattern_with_an_unknown_placeholder_is_refused_at_start() -> None:
    """A typo in CMS_ARTICLE_URL_PATTERN is a configuration error naming the setting, not a 500 later."""
    with pytest.raises(ConfigurationError, match="CMS_ARTICLE_URL_PATTERN"):
        load(FeedSettings, article_url_pattern="/{sektion}/{slug}")
    with pytest.raises(ConfigurationError, match="CMS_ARTICLE_URL_PATTERN"):
        load(FeedSettings, article_url_pattern="/{0}")


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("de", "de"),
        ("en-GB", "en"),
        ("zh-Hant", "zh-tw"),
        ("zh-TW", "zh-tw"),
        ("zh-Hans", "zh-cn"),
        ("gsw", "gsw"),
    ],
)
def test_news_language_is_what_google_news_accepts(tag: str, expected: str) -> None:
    """BCP 47 tags become ISO 639 codes, and Chinese zh-cn or zh-tw by script or region."""
    assert sitemap.news_language(tag) == expected


def test_a_chunked_urlset_is_one_well_formed_sitemap() -> None:
    """The pieces a streamed page is written in join into a urlset the sitemap schema accepts."""
    site = sitemap.Site("https://n.example", "/{section}/{slug}")
    at = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)
    rows = [
        {"id": ARTICLE_ID, "slug": f"s-{n}", "language": "de", "section": "w&b", "updated_at": at}
        for n in range(3)
    ]

    document = sitemap.urlset_open() + sitemap.urls(rows[:2], site) + sitemap.urls(rows[2:], site)
    urls = check_urlset(parse(document + sitemap.URLSET_CLOSE))

    assert len(urls) == 3
    assert b"<loc>https://n.example/w&amp;b/s-0</loc><lastmod>2026-11-30T12:00:00Z</lastmod>" in document


def test_if_modified_since_compares_whole_seconds_and_ignores_what_does_not_parse() -> None:
    """A Last-Modified sent back unchanged means not modified; garbage or a later change means modified."""
    changed = datetime(2026, 11, 30, 12, 0, 0, 700000, tzinfo=UTC)
    sent = web.http_date(changed)

    assert sent == "Mon, 30 Nov 2026 12:00:00 GMT"
    assert web.modified_since(sent, changed) is False
    assert web.modified_since(sent, changed.replace(second=1)) is True
    assert web.modified_since("yesterday", changed) is True
    assert web.modified_since("Mon, 30 Nov 2026 12:00:00", changed) is True  # no zone: ignored
    assert web.modified_since("x" * 10_000, changed) is True
    assert web.modified_since(None, changed) is True


def test_guids_are_urn_uuids_of_the_article_id() -> None:
    """The GUID depends on the id alone."""
    assert feed.guid(ARTICLE_ID) == "urn:uuid:0b7e4f1c-4d39-4a53-9a1e-2f6c7d8e9f01"
