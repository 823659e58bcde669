"""Request ids: what a caller may send as `X-Request-ID`, and what we make up instead.

The id travels into every log line, the response header and each event's AMQP
`correlation_id` (a shortstr of at most 255 bytes), so only short printable ASCII is kept.
"""

from __future__ import annotations

import re
import uuid

MAX_LENGTH = 128
# Visible ASCII at both ends, spaces allowed only inside.
_SAFE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")


def is_safe(text: str) -> bool:
    return len(text) <= MAX_LENGTH and _SAFE.fullmatch(text) is not None


def generate() -> str:
    return uuid.uuid4().hex


def from_header(value: bytes | None) -> str:
    """The caller's id if it is safe to pass on, else a new one."""
    if value is not None:
        text = value.decode("latin-1").strip()
        if is_safe(text):
            return text
    return generate()
