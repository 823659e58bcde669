"""Where is it live: an article's distribution now, and the editorial calendar."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.articles import distribution, queries
from cms.articles.distribution import Distribution
from cms.events.contract import Status
from cms.platform import auth, deps, pagination, sessions, web
from cms.platform.errors import InvalidInput
from cms.platform.openapi import UUID_PARAM, Operation
from cms.platform.tokens import Role
from cms.settings import Settings

MAX_WINDOW = timedelta(days=31)
DEFAULT_WINDOW = timedelta(days=7)


def _settings(request: Request) -> Settings:
    found = deps.settings(request)
    if not isinstance(found, Settings):
        raise TypeError(f"the application was built with {type(found).__name__}, not the content Settings")
    return found


async def article_distribution(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        await auth.authenticate(conn, request, Role.editor)
        article_id = web.path_uuid(request)
        local = await distribution.local_view(conn, article_id)
    # The connection is back in the pool before the consumers are asked: a slow consumer
    # holds no database connection.
    settings = _settings(request)
    where = distribution.Consumers(
        search_url=settings.consumer_url("search"),
        social_url=settings.consumer_url("social"),
        ads_url=settings.consumer_url("ads"),
        timeout=settings.distribution_timeout,
        credentials=_credentials(request, settings),
    )
    answer = Distribution(
        article_id=article_id,
        version=local.article.version,
        delivery=local.delivery,
        outbox=local.outbox,
        consumers=await distribution.consumer_views(article_id, where),
    )
    return web.json_response(answer, headers={"Cache-Control": "private, no-store"})


def _credentials(request: Request, settings: Settings) -> dict[str, str]:
    """The configured token, else the caller's own: their bearer token, or their session cookie
    alone (the consumers check it against the same users; a GET needs no CSRF proof)."""
    if settings.distribution_token:
        return {"Authorization": f"Bearer {settings.distribution_token}"}
    if "authorization" in request.headers:
        return {"Authorization": request.headers["authorization"]}
    session = auth.session_secret(request, settings)
    return {"Cookie": f"{sessions.cookie_name(settings)}={session}"} if session else {}


class ScheduleQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=False)
    start: Annotated[
        AwareDatetime | None, Field(alias="from", description="window start (inclusive); default: now")
    ] = None
    end: Annotated[
        AwareDatetime | None,
        Field(
            alias="to", description="window end (exclusive); default: 7 days after `from`; at most 31 days"
        ),
    ] = None
    limit: Annotated[int, Field(ge=1, le=500, description="page size, 1-500")] = 100
    cursor: pagination.Cursor | None = None


class ScheduledArticle(BaseModel):
    id: uuid.UUID
    slug: str
    language: str
    title: str
    section: str | None
    status: Status
    version: int
    owner: str


class ScheduleEntry(BaseModel):
    at: datetime
    action: Literal["publish", "unpublish"] = Field(
        description="publish: an embargo ends; unpublish: an expiry"
    )
    article: ScheduledArticle


class SchedulePage(BaseModel):
    start: datetime
    end: datetime
    order: Literal["time"] = Field(default="time", description="oldest first, as a calendar reads")
    items: list[ScheduleEntry]
    next_cursor: str | None


def _window(query: ScheduleQuery) -> tuple[datetime, datetime]:
    """The window in UTC; a 422 for one that is empty, too long or off the calendar."""
    try:
        start = (query.start or datetime.now(UTC)).astimezone(UTC)
        end = query.end.astimezone(UTC) if query.end is not None else start + DEFAULT_WINDOW
    except OverflowError:
        raise InvalidInput(
            "the window lies off the calendar", [{"loc": ["query", "from"], "msg": "out of range"}]
        ) from None
    if end <= start:
        raise InvalidInput("`to` must come after `from`", [{"loc": ["query", "to"], "msg": "not after from"}])
    if end - start > MAX_WINDOW:
        raise InvalidInput(
            f"the window may span at most {MAX_WINDOW.days} days",
            [{"loc": ["query", "to"], "msg": f"at most {MAX_WINDOW.days} days after from"}],
        )
    return start, end


async def schedule(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        await auth.authenticate(conn, request, Role.author)
        query = web.parse_query(request, ScheduleQuery)
        start, end = _window(query)
        after = pagination.decode(query.cursor)
        rows = await queries.calendar(conn, start, end, after=after, limit=query.limit)
    items = [
        ScheduleEntry(at=row["at"], action=row["kind"], article=ScheduledArticle.model_validate(row))
        for row in rows
    ]
    last = rows[-1] if len(rows) == query.limit else None
    cursor = pagination.encode(last["at"], last["id"]) if last else None
    return web.json_response(SchedulePage(start=start, end=end, items=items, next_cursor=cursor))


OPERATIONS = [
    Operation(
        "GET",
        "/v1/admin/articles/{id}/distribution",
        article_distribution,
        "Where the article is live now: delivery, outbox and each consumer's view",
        "distribution",
        auth=Role.editor,
        path_params={"id": UUID_PARAM},
        response=Distribution,
    ),
    Operation(
        "GET",
        "/v1/admin/schedule",
        schedule,
        "The editorial calendar: scheduled publications and expiries in a window, oldest first",
        "distribution",
        auth=Role.author,
        query=ScheduleQuery,
        response=SchedulePage,
    ),
]
