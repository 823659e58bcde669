"""How a handler tells the runtime what kind of failure it hit."""

from __future__ import annotations


class PermanentError(Exception):
    """Retrying cannot help (e.g. the remote side refused the content): dead-letter at once."""


class TransientError(Exception):
    """Worth retrying later (e.g. a remote 5xx)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
