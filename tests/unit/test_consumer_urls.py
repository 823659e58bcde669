"""Where `/distribution` finds the consumers: configured URLs, else the API's own address."""

from __future__ import annotations

from cms.settings import Settings


def test_unset_consumer_urls_are_the_apis_own_address_never_the_public_site() -> None:
    """Without CMS_*_URL the consumers are asked on CMS_HOST:CMS_PORT, never on CMS_PUBLIC_URL."""
    settings = Settings(host="127.0.0.1", port=8123, public_url="https://www.zeitung.example")

    assert [settings.consumer_url(name) for name in ("search", "social", "ads")] == [
        "http://127.0.0.1:8123"
    ] * 3


def test_a_wildcard_bind_address_is_reached_on_the_loopback() -> None:
    """Bound to 0.0.0.0 or ::, the API is asked on 127.0.0.1 or [::1]."""
    wildcard = Settings(host="0.0.0.0", port=8000)  # noqa: S104 (a setting under test, not a bind)
    assert wildcard.consumer_url("search") == "http://127.0.0.1:8000"
    assert Settings(host="::", port=8000).consumer_url("ads") == "http://[::1]:8000"


def test_a_configured_consumer_url_wins_without_its_trailing_slash() -> None:
    """CMS_SOCIAL_URL is used as given, less a trailing slash, and only for that consumer."""
    settings = Settings(social_url="http://social.internal:8012/", port=8000)

    assert settings.consumer_url("social") == "http://social.internal:8012"
    assert settings.consumer_url("search") == "http://127.0.0.1:8000"
