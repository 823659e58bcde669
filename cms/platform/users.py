"""Users: people who sign in (email, display name, role, password) and machines that act through
tokens. Owns `users`. The use cases here take a connection and plain values, one transaction each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
from pydantic import BaseModel

from cms.platform import audit, sessions
from cms.platform.db import Connection
from cms.platform.errors import Conflict, NotFound
from cms.platform.identity import Actor
from cms.platform.roles import Role, RoleName

Kind = Literal["person", "machine"]


class UserInfo(BaseModel):
    id: uuid.UUID
    kind: Kind
    email: str | None
    name: str
    role: RoleName
    disabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Credentials:
    """A person as sign-in sees them: who, and the hash to check the password against."""

    user: UserInfo
    password_hash: str | None


class EmailTaken(Conflict):
    type_slug = "email-taken"


class LastAdmin(Conflict):
    type_slug = "last-admin"


_COLUMNS = "id, kind, email, name, role, disabled_at IS NOT NULL AS disabled, created_at, updated_at"
_INSERT_PERSON = f"""
INSERT INTO users (id, kind, email, name, role, password_hash) VALUES ($1, 'person', $2, $3, $4, $5)
RETURNING {_COLUMNS}"""
# A token for an existing machine may raise its role (the token's own role stays its ceiling);
# a disabled machine stays disabled.
_UPSERT_MACHINE = """
INSERT INTO users (id, kind, name, role) VALUES ($1, 'machine', $2, $3)
ON CONFLICT (name) WHERE kind = 'machine' DO UPDATE
SET role = CASE WHEN role_rank(excluded.role) > role_rank(users.role) THEN excluded.role ELSE users.role END,
    updated_at = CASE WHEN excluded.role <> users.role THEN now() ELSE users.updated_at END
RETURNING id"""
_GET = f"SELECT {_COLUMNS} FROM users WHERE id = $1"
_LOCK = f"SELECT {_COLUMNS} FROM users WHERE id = $1 FOR UPDATE"
_BY_EMAIL = f"SELECT {_COLUMNS}, password_hash FROM users WHERE lower(email) = lower($1)"
_PAGE = f"""
SELECT {_COLUMNS} FROM users
WHERE $1::timestamptz IS NULL OR (created_at, id) > ($1, $2)
ORDER BY created_at, id LIMIT $3"""
_UPDATE = f"""
UPDATE users SET name = $2, role = $3,
    disabled_at = CASE WHEN $4::boolean THEN coalesce(disabled_at, now()) END, updated_at = now()
WHERE id = $1 RETURNING {_COLUMNS}"""
_STORE_HASH = "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1 AND kind = 'person'"
# Locks every enabled admin who can sign in: two admins demoting each other at once are serialised,
# so they cannot both see the other one left.
_ADMINS = """
SELECT id FROM users WHERE role = 'admin' AND kind = 'person' AND disabled_at IS NULL
ORDER BY id FOR UPDATE"""


def _user(row: asyncpg.Record) -> UserInfo:
    return UserInfo(**{key: row[key] for key in UserInfo.model_fields})


def actor_of(user: UserInfo) -> Actor:
    """The name records carry: a person's email, a machine's name."""
    return Actor(name=user.email or user.name, role=Role[user.role], user_id=user.id, display_name=user.name)


async def get(conn: Connection, user_id: uuid.UUID) -> UserInfo | None:
    row = await conn.fetchrow(_GET, user_id)
    return None if row is None else _user(row)


async def credentials(conn: Connection, email: str) -> Credentials | None:
    row = await conn.fetchrow(_BY_EMAIL, email)
    return None if row is None else Credentials(_user(row), row["password_hash"])


async def page(conn: Connection, after: tuple[datetime, uuid.UUID] | None, limit: int) -> list[UserInfo]:
    at, last_id = after if after is not None else (None, None)
    return [_user(row) for row in await conn.fetch(_PAGE, at, last_id, limit)]


async def machine(conn: Connection, name: str, role: RoleName) -> uuid.UUID:
    """The machine user called `name`, created if missing, its role raised to `role` if lower."""
    found: uuid.UUID = await conn.fetchval(_UPSERT_MACHINE, uuid.uuid4(), name, role)
    return found


async def set_password(conn: Connection, user_id: uuid.UUID, password_hash: str) -> None:
    await conn.execute(_STORE_HASH, user_id, password_hash)


async def create(
    conn: Connection,
    *,
    email: str,
    name: str,
    role: RoleName,
    password_hash: str,
    by: str,
    address: str | None,
) -> UserInfo:
    """A person; 409 when the email (in any case) is taken."""
    try:
        row = await conn.fetchrow(_INSERT_PERSON, uuid.uuid4(), email, name, role, password_hash)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "users_email":
            raise EmailTaken("a user with this email exists already") from None
        raise
    assert row is not None
    user = _user(row)
    audit.record("user.created", actor=by, address=address, user_id=str(user.id), email=email, role=role)
    return user


async def change(
    conn: Connection,
    user_id: uuid.UUID,
    *,
    name: str | None = None,
    role: RoleName | None = None,
    disabled: bool | None = None,
    by: str,
    address: str | None,
) -> UserInfo:
    """Rename, change the role, disable or enable; refused (409) when no enabled admin who can sign
    in would be left. Disabling ends the user's sessions at once (their tokens stop with them)."""
    async with conn.transaction():
        admins = {row["id"] for row in await conn.fetch(_ADMINS)}
        row = await conn.fetchrow(_LOCK, user_id)
        if row is None:
            raise NotFound(f"no user {user_id}")
        old = _user(row)
        new_role = role or old.role
        new_disabled = old.disabled if disabled is None else disabled
        loses_admin = old.id in admins and (new_role != "admin" or new_disabled)
        if loses_admin and admins == {old.id}:
            raise LastAdmin("this would leave no enabled admin: make another user admin first")
        updated = await conn.fetchrow(_UPDATE, user_id, name or old.name, new_role, new_disabled)
        assert updated is not None
        user = _user(updated)
        if new_disabled and not old.disabled:
            await sessions.end_all(conn, user_id)
    _audit_changes(old, user, by, address)
    return user


def _audit_changes(old: UserInfo, new: UserInfo, by: str, address: str | None) -> None:
    target = {"user_id": str(new.id), "email": new.email, "user_name": new.name}
    if old.role != new.role:
        audit.record("user.role_changed", actor=by, address=address, old=old.role, new=new.role, **target)
    if old.name != new.name:
        audit.record("user.renamed", actor=by, address=address, old=old.name, **target)
    if old.disabled != new.disabled:
        audit.record("user.disabled" if new.disabled else "user.enabled", actor=by, address=address, **target)
