"""What an import tells a progress bar: how much there is, once known, and each step done."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def total(self, n: int) -> None: ...

    def advance(self, n: int) -> None: ...
