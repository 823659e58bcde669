"""The event log over HTTP, for services that would rather pull than consume AMQP."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
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


class ParkedQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: pagination.Limit = 100


class ParkedEvent(BaseModel):
    sequence: int
    event_id: uuid.UUID
    event_type: str
    article_id: uuid.UUID
    correlation_id: str | None
    reason: str
    parked_at: datetime


class ParkedList(BaseModel):
    items: list[ParkedEvent] = Field(description="the oldest parked events, oldest first")
    total: int = Field(description="how many events are parked now")


class UnparkRequest(BaseModel):
    """As `cms events unpark`: name the events, or say `all` in so many words."""

    model_config = ConfigDict(extra="forbid")
    sequences: list[Annotated[int, Field(ge=1, le=2**62)]] | None = Field(
        default=None, min_length=1, max_length=1000, description="the events to unpark"
    )
    all: bool = Field(default=False, description="every parked event (then send no sequences)")

    @model_validator(mode="after")
    def _one_choice(self) -> UnparkRequest:
        if (self.sequences is None) != self.all:
            raise ValueError("send either `sequences` or `all: true`")
        return self


class Unparked(BaseModel):
    unparked: list[int] = Field(description="the sequences given back to the relay")
    not_parked: list[int] = Field(description="sequences asked for that were not parked")


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


# Parked events, as `cms events parked` / `cms events unpark` show and free them.


async def list_parked(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        await auth.authenticate(conn, request, Role.admin)
        query = web.parse_query(request, ParkedQuery)
        found = await outbox.parked(conn, query.limit)
        total = (await outbox.backlog(conn)).parked
    items = [ParkedEvent.model_validate(row, from_attributes=True) for row in found]
    return web.json_response(ParkedList(items=items, total=total))


async def unpark(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        await auth.authenticate(conn, request, Role.admin)
    body = await web.read_json(request, UnparkRequest, limit=deps.settings(request).max_body_bytes)
    async with deps.pool(request).acquire() as conn:
        unparked = await outbox.unpark(conn, None if body.all else body.sequences)
    missing = sorted(set(body.sequences or ()) - set(unparked))
    return web.json_response(Unparked(unparked=unparked, not_parked=missing))


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
    Operation(
        "GET",
        "/v1/admin/events/parked",
        list_parked,
        "Events the relay parked as unpublishable, oldest first, with the reason",
        "events",
        auth=Role.admin,
        query=ParkedQuery,
        response=ParkedList,
    ),
    Operation(
        "POST",
        "/v1/admin/events/parked/unpark",
        unpark,
        "Give parked events back to the relay, which tries them again at once",
        "events",
        auth=Role.admin,
        body=UnparkRequest,
        response=Unparked,
    ),
]
