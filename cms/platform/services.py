"""What a process was wired with: its settings and its database pools. Workers get it at start;
HTTP handlers reach it through `deps`."""

from __future__ import annotations

from dataclasses import dataclass

from cms.platform.db import Pool, ReadPool
from cms.platform.passwords import Hashing
from cms.platform.settings import PlatformSettings


@dataclass(frozen=True)
class Services:
    settings: PlatformSettings
    pool: Pool
    reads: ReadPool  # delivery reads: the replica when one is set, else the primary
    hashing: Hashing  # password hashing, bounded per process
