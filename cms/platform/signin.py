"""Signing a person in: throttle, password, session. Wrong email or password is one answer, in the
same time whether the email exists or not; no connection is held while a password is hashed."""

from __future__ import annotations

from dataclasses import dataclass

from cms.platform import audit, passwords, sessions, throttle, users
from cms.platform.db import Pool
from cms.platform.errors import TooManyRequests, Unauthorized
from cms.platform.passwords import Hashing
from cms.platform.settings import PlatformSettings


@dataclass(frozen=True)
class SignedIn:
    secret: str  # for the cookie; shown once
    session: sessions.Session
    user: users.UserInfo


async def sign_in(
    pool: Pool,
    hashing: Hashing,
    settings: PlatformSettings,
    *,
    email: str,
    password: str,
    address: str | None,
) -> SignedIn:
    async with pool.acquire() as conn:
        wait = await throttle.retry_after(conn, email, address)
        if wait is not None:
            audit.record("signin.throttled", actor=email, address=address, retry_after=wait)
            raise TooManyRequests(f"too many failed sign-ins: try again in {wait} s", wait)
        found = await users.credentials(conn, email)
    stored = found.password_hash if found is not None else None
    matches = await hashing.verify(stored, password)
    if found is None or stored is None or not matches or found.user.disabled:
        async with pool.acquire() as conn:
            await throttle.failed(conn, email, address, settings)
        reason = "unknown" if stored is None else "disabled" if matches else "password"
        audit.record("signin.failed", actor=email, address=address, reason=reason)
        raise Unauthorized("wrong email or password")
    # Parameters grow stronger over the years: a password is hashed again when the user proves it.
    rehashed = await hashing.hash(password) if passwords.needs_rehash(stored) else None
    async with pool.acquire() as conn, conn.transaction():
        await throttle.succeeded(conn, email, address)
        if rehashed is not None:
            await users.set_password(conn, found.user.id, rehashed)
        await sessions.prune(conn)
        secret, session = await sessions.create(conn, found.user.id, settings, address)
    audit.record("signin.succeeded", actor=users.actor_of(found.user).name, address=address)
    return SignedIn(secret, session, found.user)
