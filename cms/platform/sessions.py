"""Browser sessions, server side. Owns `sessions`.

The cookie carries 256 random bits; the table keeps only their sha256. A session ends when idle
longer than the idle timeout (each use moves that forward, never past the absolute expiry fixed at
sign-in), at sign-out, at "sign out everywhere", or when its user is disabled. The CSRF token is an
HMAC of the cookie's secret: one per session, never stored, useless without the cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from cms.platform.db import Connection
from cms.platform.settings import PlatformSettings

# `__Host-`: the browser accepts it only Secure, for this host, with Path=/ (RFC 6265bis 4.1.3.2).
_COOKIE = "cms_session"
_SECURE_COOKIE = "__Host-cms_session"
_MAX_SECRET = 100


@dataclass(frozen=True)
class Session:
    user_id: uuid.UUID
    created_at: datetime
    idle_expires_at: datetime
    expires_at: datetime


def is_secure(settings: PlatformSettings) -> bool:
    """Served over https (as CMS_PUBLIC_URL says): the cookie is then Secure."""
    return urlsplit(settings.public_url).scheme.lower() == "https"


def cookie_name(settings: PlatformSettings) -> str:
    return _SECURE_COOKIE if is_secure(settings) else _COOKIE


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def csrf_token(secret: str) -> str:
    digest = hmac.new(secret.encode(), b"cms csrf token", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_matches(secret: str, sent: str) -> bool:
    return hmac.compare_digest(csrf_token(secret).encode(), sent.encode())


_INSERT = """
INSERT INTO sessions (id_hash, user_id, idle_expires_at, expires_at, address)
VALUES ($1, $2, least(now() + $3::interval, now() + $4::interval), now() + $4::interval, $5)
RETURNING user_id, created_at, idle_expires_at, expires_at"""
# Renewal writes only when it moves the idle expiry by at least $3: not one write per request.
_FIND = """
WITH live AS (
    SELECT id_hash, user_id, created_at, idle_expires_at, expires_at FROM sessions
    WHERE id_hash = $1 AND expires_at > now() AND idle_expires_at > now()
), renewed AS (
    UPDATE sessions SET idle_expires_at = least(now() + $2::interval, sessions.expires_at)
    FROM live
    WHERE sessions.id_hash = live.id_hash
      AND least(now() + $2::interval, sessions.expires_at) - sessions.idle_expires_at >= $3::interval
    RETURNING sessions.idle_expires_at
)
SELECT user_id, created_at, expires_at,
       coalesce((SELECT idle_expires_at FROM renewed), idle_expires_at) AS idle_expires_at
FROM live"""
_END = "DELETE FROM sessions WHERE id_hash = $1 RETURNING user_id"
_END_ALL = "DELETE FROM sessions WHERE user_id = $1"
_PRUNE = "DELETE FROM sessions WHERE expires_at <= now() OR idle_expires_at <= now()"


async def create(
    conn: Connection, user_id: uuid.UUID, settings: PlatformSettings, address: str | None
) -> tuple[str, Session]:
    """A new session and the secret for its cookie (shown once, stored only as its hash)."""
    secret = secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        _INSERT,
        hash_secret(secret),
        user_id,
        settings.session_idle_timeout,
        settings.session_absolute_timeout,
        address,
    )
    assert row is not None
    return secret, Session(**dict(row))


async def find(conn: Connection, secret: str, settings: PlatformSettings) -> Session | None:
    """The live session the cookie names, its idle expiry renewed; None if unknown or expired."""
    if not secret or len(secret) > _MAX_SECRET:
        return None
    idle = settings.session_idle_timeout
    step = min(timedelta(minutes=1), idle / 10)
    row = await conn.fetchrow(_FIND, hash_secret(secret), idle, step)
    return None if row is None else Session(**dict(row))


async def end(conn: Connection, secret: str) -> uuid.UUID | None:
    """Sign-out: the session is gone; its user's id, or None if there was none."""
    found: uuid.UUID | None = await conn.fetchval(_END, hash_secret(secret))
    return found


async def end_all(conn: Connection, user_id: uuid.UUID) -> int:
    """Every session of the user ("sign out everywhere", or the user was disabled)."""
    status = await conn.execute(_END_ALL, user_id)
    return int(status.split()[-1])


async def prune(conn: Connection) -> None:
    await conn.execute(_PRUNE)
