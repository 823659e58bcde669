"""The event log over HTTP, for services that would rather pull than consume AMQP."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.events import outbox
from cms.events.contract import ArticleEvent
from cms.platform import auth, deps, pagination, web
from cms.platform.openapi import Operation
from cms.platform.tokens import Role


class EventsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    after: int = Field(default=0, ge=0, le=2**62, description="the last sequence you have")
    limit: pagination.Limit = 100


class EventPage(BaseModel):
    items: list[ArticleEvent]
    next_cursor: str | None = Field(description="pass as `after` for the next page; null when caught up")


async def list_events(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        await auth.authenticate(conn, request, Role.editor)
        query = web.parse_query(request, EventsQuery)
        items = await outbox.log_page(conn, after=query.after, limit=query.limit)
    cursor = items[-1]["sequence"] if len(items) == query.limit else None
    return web.json_response({"items": items, "next_cursor": cursor})


OPERATIONS = [
    Operation(
        "GET",
        "/v1/admin/events",
        list_events,
        "The event log, oldest first",
        "events",
        auth=Role.editor,
        query=EventsQuery,
        response=EventPage,
    ),
]
