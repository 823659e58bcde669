"""`/v1/social/posts`: editors list posts, approve those waiting for review (optionally with
edited text, checked against the channel's limit) and retry failed ones."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from consumers.runtime.http import (
    UUID_PARAM,
    Cursor,
    Limit,
    Operation,
    Role,
    Unavailable,
    decode_cursor,
    encode_cursor,
    json_response,
    parse_query,
    path_uuid,
    read_json,
    require_role,
)
from consumers.runtime.spec import Store
from consumers.social import review, store
from consumers.social.handler import Social
from consumers.social.store import Post

Status = Literal["ready", "sending", "sent", "failed", "retracting", "retracted"]
MAX_BODY = 64 * 1024


class PostQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    article: uuid.UUID | None = None
    channel: Annotated[str | None, Field(max_length=64)] = None
    status: Status | None = None
    limit: Limit = 20
    cursor: Cursor | None = None


class PostOut(BaseModel):
    id: uuid.UUID
    article_id: uuid.UUID
    channel: str
    status: Status
    text: str
    edited_by: str | None
    link_url: str
    remote_id: str | None
    remote_url: str | None
    attempts: int
    last_error: str | None
    article_live: bool
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    retracted_at: datetime | None


class PostPage(BaseModel):
    items: list[PostOut]
    next_cursor: str | None


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str | None, Field(min_length=1, max_length=10_000, description="edited text")] = None


def out(post: Post) -> PostOut:
    return PostOut.model_validate(post, from_attributes=True)


def operations(social: Social, holder: Store) -> list[Operation]:
    social.channels  # noqa: B018 (parse the channel configuration now: a mistake stops the start)

    async def list_posts(request: Request) -> Response:
        await require_role(request, Role.editor)
        query = parse_query(request, PostQuery)
        after = decode_cursor(query.cursor)
        if holder.pool is None:
            raise Unavailable("the social store is not open yet")
        async with holder.pool.acquire() as conn:
            posts = await store.search(
                conn,
                article_id=query.article,
                channel=query.channel,
                status=query.status,
                after=after,
                limit=query.limit,
            )
        more = len(posts) == query.limit
        cursor = encode_cursor(posts[-1].created_at, posts[-1].id) if more else None
        page = PostPage(items=[out(p) for p in posts], next_cursor=cursor)
        return json_response(page)

    async def approve(request: Request) -> Response:
        actor = await require_role(request, Role.editor)
        post_id = path_uuid(request)
        body = await read_json(request, Approval, limit=MAX_BODY, optional=True)
        return await _act(post_id, "approve", body.text, actor.name)

    async def retry(request: Request) -> Response:
        await require_role(request, Role.editor)
        return await _act(path_uuid(request), "retry", None, None)

    async def _act(post_id: uuid.UUID, action: review.Action, text: str | None, by: str | None) -> Response:
        if holder.pool is None:
            raise Unavailable("the social store is not open yet")
        async with holder.pool.acquire() as conn:
            return json_response(out(await review.act(conn, social, post_id, action, text=text, by=by)))

    return [
        Operation(
            "GET",
            "/v1/social/posts",
            list_posts,
            "Social posts, newest first; filters article, channel, status",
            "social",
            auth=Role.editor,
            query=PostQuery,
            response=PostPage,
        ),
        Operation(
            "POST",
            "/v1/social/posts/{id}/approve",
            approve,
            "Send a post waiting for review, optionally with edited text",
            "social",
            auth=Role.editor,
            body=Approval,
            body_optional=True,
            path_params={"id": UUID_PARAM},
            response=PostOut,
            problems=(409,),
        ),
        Operation(
            "POST",
            "/v1/social/posts/{id}/retry",
            retry,
            "Try a failed post (or its retraction) again",
            "social",
            auth=Role.editor,
            path_params={"id": UUID_PARAM},
            response=PostOut,
            problems=(409,),
        ),
    ]
