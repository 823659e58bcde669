"""Passwords: argon2id (argon2-cffi's RFC 9106 parameters), hashed and verified off the event loop.

A hash takes tens of milliseconds of CPU and ~64 MiB: it runs in a thread, at most
`password_hash_concurrency` at once per process, so sign-ins never stall other requests and a
burst of them cannot exhaust memory.
"""

from __future__ import annotations

import asyncio
import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
# argon2 reads the whole password; a bound keeps a megabyte "password" from costing more.
MAX_LENGTH = 1024

_hasher = PasswordHasher()


class Hashing:
    """The process's password hashing, bounded to `concurrency` hashes at once."""

    def __init__(self, concurrency: int) -> None:
        self._slots = asyncio.Semaphore(concurrency)

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(_hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches `stored`. With no stored hash (unknown user, machine) a dummy
        hash is checked instead, so the answer takes as long either way."""
        async with self._slots:
            against = stored if stored is not None else await asyncio.to_thread(_dummy)
            return await asyncio.to_thread(_verify, against, password)


def needs_rehash(stored: str) -> bool:
    """Hashed with weaker parameters than today's: hash it again at the next sign-in."""
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy() -> str:
    return _hasher.hash("no user has this password, it only costs the same time")
