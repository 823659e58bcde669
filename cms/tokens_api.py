"""Admin API for tokens: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.platform import auth, deps, tokens, users, web
from cms.platform.errors import InvalidInput, NotFound
from cms.platform.openapi import UUID_PARAM, Operation
from cms.platform.tokens import Role, RoleName, TokenInfo


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, AfterValidator(str.strip), Field(min_length=1, max_length=200)]
    role: RoleName
    user_id: UUID | None = Field(
        default=None, description="the user it acts as; none: the machine user called `name`"
    )


class TokenList(BaseModel):
    items: list[TokenInfo]


async def create_token(request: Request) -> Response:
    # The connection goes back to the pool while the body arrives: a slow client holds none.
    async with deps.pool(request).acquire() as conn:
        actor = await auth.authenticate(conn, request, Role.admin)
    body = await web.read_json(request, TokenCreate, limit=deps.settings(request).max_body_bytes)
    async with deps.pool(request).acquire() as conn:
        if body.user_id is not None and await users.get(conn, body.user_id) is None:
            raise InvalidInput("no such user", [{"loc": ["body", "user_id"], "msg": "no such user"}])
        created = await tokens.create(
            conn,
            name=body.name,
            role=body.role,
            user_id=body.user_id,
            by=actor.name,
            address=auth.address(request),
        )
    return web.json_response(
        created, 201, {"Location": f"/v1/admin/tokens/{created.id}", "Cache-Control": "no-store"}
    )


async def list_tokens(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        await auth.authenticate(conn, request, Role.admin)
        items = await tokens.list_all(conn)
    return web.json_response(TokenList(items=items))


async def revoke_token(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        actor = await auth.authenticate(conn, request, Role.admin)
        token_id = web.path_uuid(request)
        revoked = await tokens.revoke(conn, token_id, by=actor.name, address=auth.address(request))
    if revoked is None:
        raise NotFound(f"no token {token_id}")
    return Response(status_code=204)


OPERATIONS = [
    Operation(
        "POST",
        "/v1/admin/tokens",
        create_token,
        "Create a token (its secret is shown once)",
        "tokens",
        auth=Role.admin,
        body=TokenCreate,
        response=tokens.CreatedToken,
        status=201,
    ),
    Operation(
        "GET",
        "/v1/admin/tokens",
        list_tokens,
        "List tokens (never their secrets)",
        "tokens",
        auth=Role.admin,
        response=TokenList,
    ),
    Operation(
        "DELETE",
        "/v1/admin/tokens/{id}",
        revoke_token,
        "Revoke a token",
        "tokens",
        auth=Role.admin,
        path_params={"id": UUID_PARAM},
        status=204,
    ),
]
