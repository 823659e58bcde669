"""AT Protocol TIDs: the record keys of `app.bsky.feed.post`, here derived, not random.

A TID is 64 bits, top bit 0: microseconds since the epoch (53 bits) then a 10-bit clock id,
written as 13 characters of base32-sortable (https://atproto.com/specs/tid). Ours takes the
time the article was published and a clock id hashed from article, channel and generation,
so a retry after a crash writes the very same record key and `putRecord` cannot make a second
post, while a new publication (a new generation) gets a new key.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime, timedelta

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
SYNTAX = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode(micros: int, clock_id: int) -> str:
    value = ((micros << 10) | (clock_id & 0x3FF)) & ((1 << 63) - 1)
    chars = []
    for _ in range(13):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode(tid: str) -> tuple[int, int]:
    """(microseconds, clock id)."""
    value = 0
    for char in tid:
        value = (value << 5) | ALPHABET.index(char)
    return value >> 10, value & 0x3FF


def post_key(article_id: uuid.UUID, channel: str, generation: int, published_at: datetime) -> str:
    micros = (published_at - _EPOCH) // timedelta(microseconds=1)
    digest = hashlib.sha256(f"{article_id}/{channel}/{generation}".encode()).digest()
    return encode(micros, int.from_bytes(digest[:2], "big"))


def reply_key(article_id: uuid.UUID, channel: str, correction_id: uuid.UUID, at: datetime) -> str:
    """The record key of a correction's reply: the correction's time, a clock id from its id."""
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    digest = hashlib.sha256(f"{article_id}/{channel}/correction/{correction_id}".encode()).digest()
    return encode(micros, int.from_bytes(digest[:2], "big"))


def time_of(tid: str) -> datetime:
    micros, _ = decode(tid)
    return _EPOCH + timedelta(microseconds=micros)
