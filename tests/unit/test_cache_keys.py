"""Surrogate key names and the bounded header: what a purge consumer and delivery agree on."""

from __future__ import annotations

import uuid

from cms.platform import cache_keys


def test_keys_are_named_by_kind_and_slug() -> None:
    """Each dependency has one spelling: article:<uuid>, section:, tag:, language:, list:..., feed:."""
    article_id = uuid.UUID("0b3c2f6e-9d4a-4f7e-8a51-2f0e6d9b1c3a")

    assert cache_keys.article(article_id) == "article:0b3c2f6e-9d4a-4f7e-8a51-2f0e6d9b1c3a"
    assert cache_keys.of_article(article_id, section_slug="politik", language_code="de-CH") == [
        "article:0b3c2f6e-9d4a-4f7e-8a51-2f0e6d9b1c3a",
        "section:politik",
        "language:de-CH",
    ]
    assert cache_keys.of_article(article_id, section_slug=None, language_code="de")[1:] == ["language:de"]
    assert cache_keys.tag("eu") == "tag:eu"
    assert cache_keys.feed("section:politik") == "feed:section:politik"


def test_a_list_is_named_by_each_filter_and_list_all_only_without_any() -> None:
    """An unfiltered list is list:all; a filtered one names its filters and not list:all."""
    assert cache_keys.lists(section=None, tag=None, language=None) == ["list:all"]
    assert cache_keys.lists(section="politik", tag="eu", language="de") == [
        "list:section:politik",
        "list:tag:eu",
        "list:language:de",
    ]


def test_the_header_is_unique_in_order_and_sent_as_surrogate_key_and_xkey() -> None:
    """Duplicates are dropped, order kept, and both headers carry the same value."""
    sent = cache_keys.headers(["list:all", "article:a"], ["article:b", "article:a", "article:b"])

    assert sent == {
        "Surrogate-Key": "list:all article:a article:b",
        "xkey": "list:all article:a article:b",
        "Cache-Tag": "list:all,article:a,article:b",
    }


def test_a_hundred_articles_fit_but_more_detail_falls_back_to_list_all() -> None:
    """A page of 100 articles names them all; beyond the cap the detail gives way to list:all."""
    hundred = [cache_keys.article(uuid.uuid4()) for _ in range(100)]
    many_tags = [cache_keys.tag("t" * 119 + str(n % 10)) + str(n) for n in range(60)]

    fits = cache_keys.header(["list:section:politik"], hundred)
    capped = cache_keys.header(["article:x", "section:politik"], many_tags)

    assert fits.split() == ["list:section:politik", *hundred]
    assert len(capped.encode()) <= cache_keys.MAX_HEADER_BYTES
    assert capped.split() == ["article:x", "section:politik", "list:all"]
    assert not any(key.startswith("tag:") for key in capped.split())
