"""Sign-in throttling, in PostgreSQL so every API process sees the same counts. Owns `login_failures`.

Three scopes count failures within a window after the last one:

- `pair` (account and address): a few typos are free, then each failure doubles the wait. This is
  what stops one attacker guessing one account; a success from that address clears it.
- `address` (any account): a higher limit, against one address spraying many accounts.
- `account` (any address): against many addresses guessing one account. Its wait is capped low
  (`login_account_max_delay`): it slows an attack spread over a botnet but never locks the real
  user out for long, and the real user's own pair is untouched by the attacker's failures.

While a scope is blocked, attempts are refused before any password is checked, and they are not
counted: blocking cannot be stretched by the attacker to keep the real user out.
"""

from __future__ import annotations

import math
from datetime import timedelta

from cms.platform.db import Connection
from cms.platform.settings import PlatformSettings

_BLOCKED = """
SELECT extract(epoch FROM max(blocked_until) - now())::float8 FROM login_failures
WHERE (scope, key) IN (('pair', $1), ('address', $2), ('account', $3)) AND blocked_until > now()"""
# A failure after the window restarts the count.
_FAIL = """
INSERT INTO login_failures AS f (scope, key, failures, last_at) VALUES ($1, $2, 1, now())
ON CONFLICT (scope, key) DO UPDATE
SET failures = CASE WHEN f.last_at <= now() - $3::interval THEN 1 ELSE f.failures + 1 END,
    last_at = now(),
    blocked_until = CASE WHEN f.last_at <= now() - $3::interval THEN NULL ELSE f.blocked_until END
RETURNING failures"""
_BLOCK = "UPDATE login_failures SET blocked_until = now() + $3::interval WHERE scope = $1 AND key = $2"
_CLEAR_PAIR = "DELETE FROM login_failures WHERE scope = 'pair' AND key = $1"
_PRUNE = """
DELETE FROM login_failures
WHERE last_at < now() - $1::interval AND (blocked_until IS NULL OR blocked_until < now())"""


def _keys(email: str, address: str | None) -> tuple[str, str, str]:
    account = email.strip().lower()
    where = address or "unknown"
    return f"{account} {where}", where, account


async def retry_after(conn: Connection, email: str, address: str | None) -> int | None:
    """Seconds until this account may be tried from this address, or None when it may now."""
    seconds: float | None = await conn.fetchval(_BLOCKED, *_keys(email, address))
    return None if seconds is None or seconds <= 0 else max(1, math.ceil(seconds))


async def failed(conn: Connection, email: str, address: str | None, settings: PlatformSettings) -> None:
    """Count one failure in every scope, blocking those past their free failures. One transaction."""
    pair, where, account = _keys(email, address)
    scopes = [
        ("pair", pair, settings.login_pair_free, settings.login_max_delay),
        ("address", where, settings.login_address_free, settings.login_max_delay),
        ("account", account, settings.login_account_free, settings.login_account_max_delay),
    ]
    async with conn.transaction():
        for scope, key, free, longest in scopes:
            failures: int = await conn.fetchval(_FAIL, scope, key, settings.login_window)
            if failures > free:
                await conn.execute(_BLOCK, scope, key, delay(failures - free, longest))
        await conn.execute(_PRUNE, settings.login_window)


def delay(over: int, longest: timedelta) -> timedelta:
    """The wait after the `over`-th failure past the free ones: 1 s, 2 s, 4 s, ... up to `longest`."""
    return min(longest, timedelta(seconds=2 ** min(over - 1, 30)))


async def succeeded(conn: Connection, email: str, address: str | None) -> None:
    """The real user got in from this address: their pair starts afresh."""
    await conn.execute(_CLEAR_PAIR, _keys(email, address)[0])
