"""The roles, in order: a higher role may do everything a lower one may."""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

RoleName = Literal["admin", "editor", "author"]


class Role(IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    author = 1
    editor = 2
    admin = 3
