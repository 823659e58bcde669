"""Which request ids are passed on and which are replaced."""

from __future__ import annotations

import pytest

from cms.platform import request_ids


@pytest.mark.parametrize(
    "text", ["req-42", "a", "desk 7/req:42", "~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}", "x" * 128]
)
def test_printable_ascii_up_to_128_characters_is_safe(text: str) -> None:
    """Ids made of visible ASCII, with spaces only inside, are kept as the caller sent them."""
    assert request_ids.is_safe(text)
    assert request_ids.from_header(text.encode()) == text


@pytest.mark.parametrize(
    "text",
    ["", " ", "\xe9" * 128, "ä", "x" * 129, "a\tb", "a\nb", "a\x00b", "a\x7fb", " lead", "trail ", "\u2028"],
)
def test_anything_else_is_not_safe_and_a_new_id_replaces_it(text: str) -> None:
    """Empty, too long, non-ASCII, control characters or outer spaces: a fresh id instead."""
    assert not request_ids.is_safe(text)
    generated = request_ids.from_header(text.encode("utf-8"))
    assert generated != text
    assert request_ids.is_safe(generated)


def test_no_header_gives_a_fresh_id_each_time() -> None:
    """Without a header each request gets its own id."""
    assert request_ids.from_header(None) != request_ids.from_header(None)
