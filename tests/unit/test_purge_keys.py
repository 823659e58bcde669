"""Which surrogate keys a change makes stale (consumers/purge/keys.py)."""

from __future__ import annotations

import uuid

from consumers.purge.keys import Shown, stale_keys

ID = uuid.UUID("7197ea93-bbd8-42b7-9d6d-12a76c681ab3")
ARTICLE = f"article:{ID}"


def live(section: str | None = "world", tags: tuple[str, ...] = ("eu",), language: str = "de") -> Shown:
    return Shown(True, section, tags, language)


def hidden(section: str | None = "world", tags: tuple[str, ...] = ("eu",), language: str = "de") -> Shown:
    return Shown(False, section, tags, language)


def test_an_update_that_moves_nothing_purges_the_article_and_the_sitemap_only() -> None:
    """A live story's text changed: its page, the lists showing it (by its key) and sitemaps."""
    assert stale_keys(ID, live(), live()) == [ARTICLE, "sitemap"]


def test_going_live_purges_every_list_it_enters() -> None:
    """Publishing adds it to the unfiltered list and those of its section, tags and language."""
    assert stale_keys(ID, hidden(), live(tags=("eu", "russland"))) == [
        ARTICLE,
        "list:all",
        "list:language:de",
        "list:section:world",
        "list:tag:eu",
        "list:tag:russland",
        "sitemap",
    ]


def test_leaving_purges_the_lists_it_was_in() -> None:
    """Unpublishing, killing or deleting takes it out of the lists it was shown in."""
    assert stale_keys(ID, live(section="politik"), hidden(section="world")) == [
        ARTICLE,
        "list:all",
        "list:language:de",
        "list:section:politik",
        "list:tag:eu",
        "sitemap",
    ]


def test_moving_while_live_purges_the_lists_left_and_joined_not_those_it_stayed_in() -> None:
    """Section world → politik and tag eu → nato: both ends of each move, not list:all or de."""
    assert stale_keys(
        ID, live(section="world", tags=("eu", "gipfel")), live(section="politik", tags=("gipfel", "nato"))
    ) == [
        ARTICLE,
        "list:section:politik",
        "list:section:world",
        "list:tag:eu",
        "list:tag:nato",
        "sitemap",
    ]


def test_a_change_readers_never_saw_purges_nothing() -> None:
    """A draft edited (or a killed story edited) is in no cache."""
    assert stale_keys(ID, hidden(), hidden(section="politik")) == []


def test_an_article_never_seen_before_purges_everywhere_it_may_be_listed() -> None:
    """Without history (a consumer deployed later), whatever it was, it may be cached where the
    new version is listed: those lists go too, even when it is not live now."""
    expected = [ARTICLE, "list:all", "list:language:de", "list:section:world", "list:tag:eu", "sitemap"]
    assert stale_keys(ID, None, live()) == expected
    assert stale_keys(ID, None, hidden()) == expected
