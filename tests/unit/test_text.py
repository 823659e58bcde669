"""Pure text rules: slugs from titles, inline HTML sanitising, ETags and cursors."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cms.articles.text import SLUG_MAX, check_plain, check_url, sanitize_inline, slug_from_title
from cms.platform import pagination
from cms.platform.errors import InvalidInput
from cms.platform.web import parse_etag

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TITLE = "EU verbietet Export von Luxusgütern nach Russland"


# Slugs


def test_slug_of_a_german_title_transliterates_umlauts() -> None:
    """A German headline becomes a lowercase, hyphenated slug with ü written as ue."""
    assert slug_from_title(TITLE) == "eu-verbietet-export-von-luxusguetern-nach-russland"


def test_slug_of_decomposed_nfd_input_is_the_same_as_of_composed_input() -> None:
    """A title pasted from macOS arrives as u + combining diaeresis, not ü."""
    decomposed = unicodedata.normalize("NFD", TITLE)
    assert decomposed != TITLE

    assert slug_from_title(decomposed) == slug_from_title(TITLE)


def test_slug_turns_eszett_into_ss_and_capital_umlauts_into_two_letters() -> None:
    """ß becomes ss and capital umlauts become two lowercase letters, as German readers expect."""
    assert slug_from_title("Straße") == "strasse"
    assert slug_from_title("Ärger Öl Übermut") == "aerger-oel-uebermut"


def test_slug_drops_typographic_quotes_and_punctuation() -> None:
    """Typographic quotes and punctuation vanish from a slug without leaving stray hyphens."""
    assert slug_from_title("Washington will „die Kommunikationswege aufrechterhalten“!") == (
        "washington-will-die-kommunikationswege-aufrechterhalten"
    )


def test_slug_of_a_long_title_is_cut_at_a_word_boundary() -> None:
    """A very long title gives a valid slug within the limit, cut between words, never inside one."""
    slug = slug_from_title("Sanktionen " * 40)

    assert len(slug) <= SLUG_MAX
    assert SLUG.match(slug)
    assert set(slug.split("-")) == {"sanktionen"}


def test_slug_of_a_title_without_letters_or_digits_is_empty() -> None:
    """A title of punctuation alone gives an empty slug, not one of stray hyphens."""
    assert slug_from_title("„…“ — !?") == ""


@given(st.text(max_size=300))
def test_slug_is_always_url_safe_and_short_or_empty(title: str) -> None:
    """For any text at all, the slug is empty or matches the slug pattern within the length limit."""
    slug = slug_from_title(title)

    assert slug == "" or SLUG.match(slug), slug
    assert len(slug) <= SLUG_MAX


@given(st.text(max_size=100))
def test_slug_ignores_unicode_normalisation_form(title: str) -> None:
    """NFC and NFD spellings of any text give the same slug."""
    assert slug_from_title(unicodedata.normalize("NFD", title)) == slug_from_title(
        unicodedata.normalize("NFC", title)
    )


# Sanitising


@pytest.mark.parametrize(
    "kept",
    [
        "<b>fett</b>",
        "<i>kursiv</i>",
        "<em>betont</em>",
        "<strong>stark</strong>",
        "eins<br>zwei",
        '<a href="https://example.org/a?b=c" rel="noopener noreferrer">Link</a>',
    ],
)
def test_sanitizer_keeps_the_inline_subset(kept: str) -> None:
    """b, i, em, strong, br and a link with href pass through the sanitizer unchanged."""
    assert sanitize_inline(kept) == kept


def test_sanitizer_drops_script_together_with_its_text() -> None:
    """A script element is removed with its content, not just its tags."""
    assert sanitize_inline("vor<script>alert('x')</script>nach") == "vornach"


def test_sanitizer_drops_event_handler_attributes() -> None:
    """An onclick handler is stripped and the allowed tag around it kept."""
    assert sanitize_inline('<b onclick="steal()">fett</b>') == "<b>fett</b>"


def test_sanitizer_drops_javascript_urls_but_keeps_the_link_text() -> None:
    """A javascript: href is removed; the link text stays and the link gets rel=noopener."""
    assert sanitize_inline('<a href="javascript:steal()">hier</a>') == '<a rel="noopener noreferrer">hier</a>'


def test_sanitizer_keeps_no_attribute_but_href_not_even_title_or_lang() -> None:
    """The contract is a[href] only; ammonia would otherwise keep lang and title everywhere."""
    html = '<b title="t" lang="de">fett</b><a href="https://example.org" title="t" lang="de">x</a>'

    assert sanitize_inline(html) == (
        '<b>fett</b><a href="https://example.org" rel="noopener noreferrer">x</a>'
    )


def test_sanitizer_strips_other_tags_but_keeps_their_text() -> None:
    """Tags outside the subset (p, span, img) go, and the words inside them remain."""
    assert sanitize_inline("<p>Absatz</p><span style='x'>Spanne</span><img src=x onerror=y>") == (
        "AbsatzSpanne"
    )


def test_sanitizer_leaves_typographic_quotes_and_umlauts_alone() -> None:
    """German quotes and umlauts are not escaped into entities by the sanitizer."""
    text = "Gerasimov hätten „mehrere Sicherheitsbedenken diskutiert“, äöüß"

    assert sanitize_inline(text) == text


_HTML_PIECES = st.sampled_from(
    [
        "<b>",
        "</b>",
        "<i>",
        "</i>",
        "<em>",
        "</em>",
        "<strong>",
        "</strong>",
        "<br>",
        "<p>",
        "</p>",
        "<a href='https://example.org'>",
        "<a href='javascript:x()'>",
        "<a title='t'>",
        "</a>",
        "<script>",
        "</script>",
        "<img src=x onerror=y>",
        "<!-- c -->",
        "&amp;",
        "&",
        "<",
        ">",
        '"',
        "'",
        "„Zitat“",
        "Grüße",
        " ",
    ]
)


@given(st.lists(_HTML_PIECES | st.text(max_size=5), max_size=20).map("".join))
def test_sanitizing_is_idempotent(html: str) -> None:
    """An article read back and saved again must not change its text."""
    once = sanitize_inline(html)

    assert sanitize_inline(once) == once


# ETags


@pytest.mark.parametrize(
    ("header", "version"),
    [('"3"', 3), ('W/"3"', 3), (' "42" ', 42), ("7", 7), ('"123456789"', 123456789)],
)
def test_parse_etag_reads_the_version(header: str, version: int) -> None:
    """Quoted, weak, padded or bare, an ETag that holds a version number yields that number."""
    assert parse_etag(header) == version


@pytest.mark.parametrize(
    "header",
    ['"abc"', '""', '"-1"', '"1.5"', '"1234567890"', '"²"', '"٣"', '"3", "4"', "W/", "*"],
)
def test_parse_etag_of_something_that_is_no_version_of_ours_is_none(header: str) -> None:
    """Text, negatives, decimals, overlong numbers, non-ASCII digits, lists and * are no version."""
    assert parse_etag(header) is None


@given(st.text(max_size=20))
def test_parse_etag_never_raises(header: str) -> None:
    """Any header text yields a non-negative version or None, never an exception."""
    version = parse_etag(header)

    assert version is None or version >= 0


# Cursors


def test_cursor_round_trip_keeps_the_instant_to_the_microsecond() -> None:
    """A cursor decodes to the exact instant (to the microsecond) and id it was made from."""
    at = datetime(2022, 5, 19, 14, 3, 7, 123456, tzinfo=UTC)
    item_id = uuid.uuid4()

    assert pagination.decode(pagination.encode(at, item_id)) == (at, item_id)


@given(
    st.datetimes(timezones=st.just(UTC), min_value=datetime(1970, 1, 1), max_value=datetime(9000, 1, 1)),
    st.uuids(),
)
def test_cursor_round_trip(at: datetime, item_id: uuid.UUID) -> None:
    """Any instant and id round-trip through a cursor made only of URL-safe characters."""
    cursor = pagination.encode(at, item_id)

    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert pagination.decode(cursor) == (at, item_id)


def test_no_cursor_decodes_to_none() -> None:
    """Without a cursor the listing starts from the beginning."""
    assert pagination.decode(None) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not-a-cursor",
        "ä",
        pagination.encode(datetime(2022, 1, 1, tzinfo=UTC), uuid.uuid4())[:-3],
        # Valid base64 of JSON that is not [instant, id]:
        "eyJhIjoxfQ",  # {"a":1}
        "WyIyMDIyLTAxLTAxVDAwOjAwOjAwIiwieCJd",  # ["2022-01-01T00:00:00","x"]
        "WzEsMl0",  # [1,2]
    ],
)
def test_a_cursor_this_api_did_not_give_out_is_invalid_input(cursor: str) -> None:
    """Garbage, truncated or foreign-shaped cursors are a 422 naming query.cursor, not a 500."""
    with pytest.raises(InvalidInput) as raised:
        pagination.decode(cursor)

    assert raised.value.errors == [{"loc": ["query", "cursor"], "msg": "invalid cursor"}]


def test_a_cursor_naming_a_naive_instant_is_invalid_input() -> None:
    """A cursor whose instant has no time zone is refused as invalid input."""
    naive = pagination.encode(datetime(2022, 1, 1), uuid.uuid4())

    with pytest.raises(InvalidInput):
        pagination.decode(naive)


@pytest.mark.parametrize(
    "at",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-1))),
    ],
)
def test_a_cursor_naming_an_instant_outside_the_calendar_is_invalid_input(at: datetime) -> None:
    """In UTC these fall before year 1 or after 9999: the database driver could not send them."""
    with pytest.raises(InvalidInput):
        pagination.decode(pagination.encode(at, uuid.uuid4()))


@given(st.integers(min_value=0, max_value=10_000))
def test_an_offset_cursor_round_trips_within_its_maximum(offset: int) -> None:
    """An offset cursor gives back the offset it was made from, in URL-safe characters."""
    cursor = pagination.encode_offset(offset)

    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
    assert pagination.decode_offset(cursor, 10_000) == offset
    assert pagination.decode_offset(None, 10_000) == 0


@pytest.mark.parametrize(
    "cursor",
    [
        pagination.encode_offset(10_001),
        pagination.encode(datetime(2022, 5, 19, tzinfo=UTC), uuid.UUID(int=1)),
        "bzo1",  # "o:5", an older shape
        "WyJvIiwtMV0",  # ["o",-1]
        "WyJvIix0cnVlXQ",  # ["o",true]
        "WyJvIiwxLjVd",  # ["o",1.5]
        "WyJvIiwxLDJd",  # ["o",1,2]
        "@@",
    ],
)
def test_an_offset_cursor_that_is_not_ours_or_out_of_range_is_invalid_input(cursor: str) -> None:
    """Search's offset cursors share the codec and its one 422 with every other list."""
    with pytest.raises(InvalidInput):
        pagination.decode_offset(cursor, 10_000)


def test_an_offset_cursor_is_no_keyset_cursor() -> None:
    """A cursor of one list is refused by a list of another kind, not misread."""
    with pytest.raises(InvalidInput):
        pagination.decode(pagination.encode_offset(20))


# URLs of image and embed blocks, and plain-text fields


@pytest.mark.parametrize(
    "url",
    [
        'https://x" onerror="alert(1)',
        "http://x\nSet-Cookie: a",
        "https://user:pass@host/",
        "https://user@host/",
        "http://",
        "https:///path",
        "javascript:alert(1)",
        "ftp://example.org/x.jpg",
        "//example.org/x.jpg",
        "https://exa mple.org/",
        "https://example.org/<script>",
        "https://example.org:99999/",
        "https://-bad-.example/",
        "https://example.org/" + "a" * 2048,
    ],
)
def test_a_url_that_could_break_out_or_names_no_host_is_refused(url: str) -> None:
    """Quotes, line breaks, credentials, other schemes and missing hosts never pass as a URL."""
    with pytest.raises(ValueError, match="URL"):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/a.jpg?w=640&h=480#top",
        "http://cdn.example.org:8080/b%20c.png",
        "https://bücher.example/titel.jpg",
        "https://[2001:db8::1]/x.png",
        "https://192.0.2.7/x.png",
    ],
)
def test_an_ordinary_http_url_is_kept_as_it_is(url: str) -> None:
    """Ports, queries, fragments, percent-escapes, IDNs and IP hosts are fine."""
    assert check_url(url) == url


@pytest.mark.parametrize(
    "text",
    ["<b>Reuters</b>", "AP </i>", "<img src=x onerror=alert(1)>", "x <!-- y -->", "<?php ?>"],
)
def test_markup_in_a_plain_text_field_is_refused(text: str) -> None:
    """Plain-text fields refuse anything that reads as a tag, comment or processing instruction."""
    with pytest.raises(ValueError, match="plain text"):
        check_plain(text)


@pytest.mark.parametrize(
    "text", ["Foto: dpa/Kay Nietfeld", "Kinder <12 Jahre", "a < b & c > d", "AT&T", "<3"]
)
def test_plain_text_with_angle_brackets_that_are_no_markup_is_kept(text: str) -> None:
    """A "<" that starts no tag is ordinary text and stays as written."""
    assert check_plain(text) == text
