"""API tokens: created with a role, stored hashed, revoked by id. Owns `api_tokens`."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from enum import IntEnum
from typing import Literal

from pydantic import BaseModel

from cms.platform.db import Connection

RoleName = Literal["admin", "editor", "author"]
_PREFIX = "cms_"


class Role(IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    author = 1
    editor = 2
    admin = 3


class TokenInfo(BaseModel):
    id: uuid.UUID
    name: str
    role: RoleName
    created_at: datetime
    revoked_at: datetime | None = None


class CreatedToken(TokenInfo):
    token: str


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_secret() -> str:
    return _PREFIX + secrets.token_urlsafe(32)


_INSERT = """
INSERT INTO api_tokens (id, name, role, token_hash) VALUES ($1, $2, $3, $4)
RETURNING id, name, role, created_at, revoked_at"""
_FIND = "SELECT id, name, role, created_at, revoked_at FROM api_tokens WHERE token_hash = $1"
_LIST = "SELECT id, name, role, created_at, revoked_at FROM api_tokens ORDER BY created_at, id"
_REVOKE = """
UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
RETURNING id, name, role, created_at, revoked_at"""


async def create(conn: Connection, *, name: str, role: RoleName) -> CreatedToken:
    secret = new_secret()
    row = await conn.fetchrow(_INSERT, uuid.uuid4(), name, role, hash_token(secret))
    assert row is not None
    return CreatedToken(token=secret, **dict(row))


async def find_active(conn: Connection, secret: str) -> TokenInfo | None:
    if not secret.startswith(_PREFIX):
        return None
    row = await conn.fetchrow(_FIND, hash_token(secret))
    if row is None or row["revoked_at"] is not None:
        return None
    return TokenInfo(**dict(row))


async def list_all(conn: Connection) -> list[TokenInfo]:
    return [TokenInfo(**dict(row)) for row in await conn.fetch(_LIST)]


async def revoke(conn: Connection, token_id: uuid.UUID) -> TokenInfo | None:
    row = await conn.fetchrow(_REVOKE, token_id)
    return None if row is None else TokenInfo(**dict(row))
