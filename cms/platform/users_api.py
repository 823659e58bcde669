"""Admin API for users: list (cursor paging), create, read, change role or name, disable or enable."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.platform import auth, deps, pagination, passwords, users, web
from cms.platform.errors import NotFound
from cms.platform.openapi import UUID_PARAM, Operation
from cms.platform.pagination import PageQuery
from cms.platform.roles import Role, RoleName
from cms.platform.users import UserInfo

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.fullmatch(value):
        raise ValueError("not an email address")
    return value


def _name(value: str) -> str:
    value = value.strip()
    if not value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("a name is some text without control characters")
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]
Password = Annotated[str, Field(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email
    name: Name
    role: RoleName
    password: Password


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    role: RoleName | None = None
    disabled: bool | None = Field(default=None, description="true ends every session and token at once")


class UserPage(BaseModel):
    items: list[UserInfo]
    next_cursor: str | None


async def list_users(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        await auth.authenticate(conn, request, Role.admin)
        query = web.parse_query(request, PageQuery)
        found = await users.page(conn, pagination.decode(query.cursor), query.limit)
    more = len(found) == query.limit
    cursor = pagination.encode(found[-1].created_at, found[-1].id) if more else None
    return web.json_response(UserPage(items=found, next_cursor=cursor))


async def create_user(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        actor = await auth.authenticate(conn, request, Role.admin)
    body = await web.read_json(request, UserCreate, limit=deps.settings(request).max_body_bytes)
    hashed = await deps.services(request).hashing.hash(body.password)
    async with deps.pool(request).acquire() as conn:
        user = await users.create(
            conn,
            email=body.email,
            name=body.name,
            role=body.role,
            password_hash=hashed,
            by=actor.name,
            address=auth.address(request),
        )
    return web.json_response(user, 201, {"Location": f"/v1/admin/users/{user.id}"})


async def get_user(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        await auth.authenticate(conn, request, Role.admin)
        user_id = web.path_uuid(request)
        user = await users.get(conn, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return web.json_response(user)


async def change_user(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        actor = await auth.authenticate(conn, request, Role.admin)
    user_id = web.path_uuid(request)
    body = await web.read_json(request, UserChange, limit=deps.settings(request).max_body_bytes)
    async with deps.pool(request).acquire() as conn:
        user = await users.change(
            conn,
            user_id,
            name=body.name,
            role=body.role,
            disabled=body.disabled,
            by=actor.name,
            address=auth.address(request),
        )
    return web.json_response(user)


OPERATIONS = [
    Operation(
        "GET",
        "/v1/admin/users",
        list_users,
        "List users, people and machines, oldest first",
        "users",
        auth=Role.admin,
        query=PageQuery,
        response=UserPage,
    ),
    Operation(
        "POST",
        "/v1/admin/users",
        create_user,
        "Create a person who signs in with email and password",
        "users",
        auth=Role.admin,
        body=UserCreate,
        response=UserInfo,
        status=201,
        problems=(409,),
    ),
    Operation(
        "GET",
        "/v1/admin/users/{id}",
        get_user,
        "Read a user",
        "users",
        auth=Role.admin,
        path_params={"id": UUID_PARAM},
        response=UserInfo,
    ),
    Operation(
        "PATCH",
        "/v1/admin/users/{id}",
        change_user,
        "Change a user's name or role, disable or enable them (never the last enabled admin)",
        "users",
        auth=Role.admin,
        path_params={"id": UUID_PARAM},
        body=UserChange,
        response=UserInfo,
        problems=(409,),
    ),
]
