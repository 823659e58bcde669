"""API tokens, for machines and scripts: created with a role, stored hashed, revoked by id. Every
token belongs to a user and acts as that user, its own role the ceiling. Owns `api_tokens`."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from pydantic import BaseModel

from cms.platform import audit, users
from cms.platform.db import Connection
from cms.platform.roles import Role, RoleName

__all__ = ["CreatedToken", "Role", "RoleName", "TokenInfo", "create", "find_active", "list_all", "revoke"]

_PREFIX = "cms_"


class TokenInfo(BaseModel):
    id: uuid.UUID
    name: str
    role: RoleName
    user_id: uuid.UUID
    created_at: datetime
    revoked_at: datetime | None = None


class CreatedToken(TokenInfo):
    token: str


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_secret() -> str:
    return _PREFIX + secrets.token_urlsafe(32)


_RETURNING = "RETURNING id, name, role, user_id, created_at, revoked_at"
_INSERT = f"""
INSERT INTO api_tokens (id, name, role, token_hash, user_id) VALUES ($1, $2, $3, $4, $5)
{_RETURNING}"""
_FIND = "SELECT id, name, role, user_id, created_at, revoked_at FROM api_tokens WHERE token_hash = $1"
_LIST = "SELECT id, name, role, user_id, created_at, revoked_at FROM api_tokens ORDER BY created_at, id"
_REVOKE = f"UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 {_RETURNING}"


async def create(
    conn: Connection,
    *,
    name: str,
    role: RoleName,
    user_id: uuid.UUID | None = None,
    by: str = audit.COMMAND_LINE,
    address: str | None = None,
) -> CreatedToken:
    """A token named `name`; it belongs to `user_id`, or else to the machine user called `name`
    (created if missing), so a script's tokens keep one identity across rotations."""
    secret = new_secret()
    async with conn.transaction():
        owner = user_id or await users.machine(conn, name, role)
        row = await conn.fetchrow(_INSERT, uuid.uuid4(), name, role, hash_token(secret), owner)
    assert row is not None
    created = CreatedToken(token=secret, **dict(row))
    audit.record(
        "token.created",
        actor=by,
        address=address,
        token_id=str(created.id),
        name=name,
        role=role,
        user_id=str(owner),
    )
    return created


async def find_active(conn: Connection, secret: str) -> TokenInfo | None:
    if not secret.startswith(_PREFIX):
        return None
    row = await conn.fetchrow(_FIND, hash_token(secret))
    if row is None or row["revoked_at"] is not None:
        return None
    return TokenInfo(**dict(row))


async def list_all(conn: Connection) -> list[TokenInfo]:
    return [TokenInfo(**dict(row)) for row in await conn.fetch(_LIST)]


async def revoke(
    conn: Connection, token_id: uuid.UUID, *, by: str = audit.COMMAND_LINE, address: str | None = None
) -> TokenInfo | None:
    row = await conn.fetchrow(_REVOKE, token_id)
    if row is None:
        return None
    audit.record("token.revoked", actor=by, address=address, token_id=str(token_id), name=row["name"])
    return TokenInfo(**dict(row))
