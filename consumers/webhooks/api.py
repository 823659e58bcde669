"""`/v1/webhooks/...` for admins: subscriptions (the secret shown once, rotated with an overlap),
each subscription's delivery log, redelivery of one delivery and replay of a time range."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response

from cms.events.contract import EventType
from cms.platform.db import Connection
from consumers.runtime.http import (
    UUID_PARAM,
    Cursor,
    InvalidInput,
    Limit,
    NotFound,
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
from consumers.webhooks import sender, store
from consumers.webhooks.handler import Webhooks
from consumers.webhooks.safety import TargetRefused

MAX_BODY = 16 * 1024
T = TypeVar("T")

Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=100)]
Language = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$", max_length=35)]
Url = Annotated[str, Field(min_length=1, max_length=2000, description="http(s) URL the events are POSTed to")]
Description = Annotated[str, Field(max_length=500)]
EventTypes = Annotated[list[EventType], Field(max_length=20, description="none: every type")]
Sections = Annotated[list[Slug], Field(max_length=50, description="none: every section")]
Languages = Annotated[list[Language], Field(max_length=50, description="none: every language")]
Tags = Annotated[list[Slug], Field(max_length=50, description="any of them; none: no tag filter")]


def _in_utc(moment: datetime) -> datetime:
    # An offset can push year 1 or 9999 off the calendar: a 422 here, not a 500 in the driver.
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None


Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url
    description: Description = ""
    event_types: EventTypes = []
    sections: Sections = []
    languages: Languages = []
    tags: Tags = []
    enabled: bool = True


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url | None = None
    description: Description | None = None
    event_types: EventTypes | None = None
    sections: Sections | None = None
    languages: Languages | None = None
    tags: Tags | None = None
    enabled: bool | None = None


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    sections: list[str]
    languages: list[str]
    tags: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    previous_secret_until: datetime | None = Field(description="the old secret signs too until then")
    created_by: str
    created_at: datetime
    updated_at: datetime


class SubscriptionWithSecret(SubscriptionOut):
    secret: str = Field(description="whsec_…: shown only now; verify signatures with it")


class SubscriptionPage(BaseModel):
    items: list[SubscriptionOut]
    next_cursor: str | None


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    overlap_seconds: Annotated[
        int | None, Field(ge=0, le=604_800, description="how long the old secret still signs")
    ] = None


class DeliveryOut(BaseModel):
    id: uuid.UUID
    webhook_id: str
    event_id: uuid.UUID
    event_type: str
    article_id: uuid.UUID
    article_version: int
    status: Literal["pending", "delivered"]
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class DeliveryQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["pending", "delivered"] | None = None
    limit: Limit = 20
    cursor: Cursor | None = None


class AttemptOut(BaseModel):
    id: uuid.UUID
    delivery_id: uuid.UUID
    webhook_id: str
    attempted_at: datetime
    status: int | None = Field(description="the receiver's HTTP status; null: no answer")
    latency_ms: int
    error: str | None
    response_excerpt: str | None


class AttemptPage(BaseModel):
    items: list[AttemptOut]
    next_cursor: str | None


class AttemptQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    delivery: uuid.UUID | None = None
    limit: Limit = 20
    cursor: Cursor | None = None


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: Moment
    until: Moment | None = Field(default=None, description="default: now")

    @model_validator(mode="after")
    def _ordered(self) -> ReplayIn:
        if self.until is not None and self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class ReplayOut(BaseModel):
    queued: int = Field(description="deliveries that will be sent (again), in each article's order")


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: Limit = 20
    cursor: Cursor | None = None


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def subscription_out(subscription: store.Subscription) -> SubscriptionOut:
    return SubscriptionOut.model_validate(subscription, from_attributes=True)


def delivery_out(delivery: store.Delivery) -> DeliveryOut:
    return DeliveryOut(
        **{name: getattr(delivery, name) for name in DeliveryOut.model_fields if hasattr(delivery, name)},
        webhook_id=sender.webhook_id(delivery.id),
    ).model_copy(
        update={"next_attempt_at": delivery.next_attempt_at if delivery.status == "pending" else None}
    )


def attempt_out(attempt: store.Attempt) -> AttemptOut:
    return AttemptOut(
        **{name: getattr(attempt, name) for name in AttemptOut.model_fields if hasattr(attempt, name)},
        webhook_id=sender.webhook_id(attempt.delivery_id),
    )


def operations(webhooks: Webhooks, holder: Store) -> list[Operation]:
    async def run(work: Callable[[Connection], Awaitable[T]], *, transaction: bool = False) -> T:
        if holder.pool is None:
            raise Unavailable("the webhooks store is not open yet")
        async with holder.pool.acquire() as conn:
            if not transaction:
                return await work(conn)
            async with conn.transaction():
                return await work(conn)

    async def checked(url: str) -> None:
        try:
            await webhooks.check_target(url)
        except TargetRefused as exc:
            raise InvalidInput(str(exc), [{"loc": ["body", "url"], "msg": str(exc)}]) from None

    async def found(conn: Connection, subscription_id: uuid.UUID, lock: bool = False) -> store.Subscription:
        subscription = await store.subscription(conn, subscription_id, lock=lock)
        if subscription is None:
            raise NotFound(f"no subscription {subscription_id}")
        return subscription

    async def create(request: Request) -> Response:
        actor = await require_role(request, Role.admin)
        body = await read_json(request, SubscriptionIn, limit=MAX_BODY)
        await checked(body.url)
        values = {**body.model_dump(), "id": uuid.uuid4(), "secret": new_secret(), "created_by": actor.name}
        created = await run(lambda conn: store.insert_subscription(conn, values))
        shown = SubscriptionWithSecret(**subscription_out(created).model_dump(), secret=created.secret)
        headers = {"Location": f"/v1/webhooks/subscriptions/{created.id}", "Cache-Control": "no-store"}
        return json_response(shown, 201, headers)

    async def list_subscriptions(request: Request) -> Response:
        await require_role(request, Role.admin)
        query = parse_query(request, PageQuery)
        after = decode_cursor(query.cursor)
        items = await run(lambda conn: store.subscriptions_page(conn, after, query.limit))
        more = len(items) == query.limit
        cursor = encode_cursor(items[-1].created_at, items[-1].id) if more else None
        return json_response(SubscriptionPage(items=[subscription_out(s) for s in items], next_cursor=cursor))

    async def show(request: Request) -> Response:
        await require_role(request, Role.admin)
        subscription_id = path_uuid(request)
        return json_response(subscription_out(await run(lambda conn: found(conn, subscription_id))))

    async def change(request: Request) -> Response:
        await require_role(request, Role.admin)
        subscription_id = path_uuid(request)
        body = await read_json(request, SubscriptionPatch, limit=MAX_BODY)
        changes = body.model_dump(exclude_unset=True)
        if changes.get("url") is not None:
            await checked(changes["url"])
        changes = {name: value for name, value in changes.items() if value is not None}

        async def apply(conn: Connection) -> store.Subscription:
            current = await found(conn, subscription_id, lock=True)
            await store.update_subscription(conn, subscription_id, changes)
            if changes.get("enabled") is True and not current.enabled:
                await store.enable(conn, subscription_id)
            elif changes.get("enabled") is False and current.enabled:
                await store.disable(conn, subscription_id, "disabled by an admin")
            return await found(conn, subscription_id)

        return json_response(subscription_out(await run(apply, transaction=True)))

    async def remove(request: Request) -> Response:
        await require_role(request, Role.admin)
        subscription_id = path_uuid(request)
        if not await run(lambda conn: store.delete_subscription(conn, subscription_id)):
            raise NotFound(f"no subscription {subscription_id}")
        return Response(status_code=204)

    async def rotate(request: Request) -> Response:
        await require_role(request, Role.admin)
        subscription_id = path_uuid(request)
        body = await read_json(request, Rotation, limit=MAX_BODY, optional=True)
        overlap = (
            body.overlap_seconds
            if body.overlap_seconds is not None
            else webhooks.settings.webhooks_secret_overlap
        )
        secret = new_secret()
        rotated = await run(lambda conn: store.rotate_secret(conn, subscription_id, secret, overlap))
        if rotated is None:
            raise NotFound(f"no subscription {subscription_id}")
        shown = SubscriptionWithSecret(**subscription_out(rotated).model_dump(), secret=rotated.secret)
        return json_response(shown, headers={"Cache-Control": "no-store"})

    async def deliveries(request: Request) -> Response:
        await require_role(request, Role.admin)
        subscription_id = path_uuid(request)
        query = parse_query(request, DeliveryQuery)
        after = decode_cursor(query.cursor)

        async def read(conn: Connection) -> list[store.Delivery]:
            await found(conn, subscription_id)
            return await store.deliveries_page(conn, subscription_id, query.status, after, query.limit)

        items = await run(read)
        more = len(items) == query.limit
        cursor = encode_cursor(items[-1].created_at, items[-1].id) if more else None
        return json_response(DeliveryPage(items=[delivery_out(d) for d in items], next_cursor=cursor))

    async def attempts(request: Request) -> Response:
        await require_role(request, Role.admin)
        subscription_id = path_uuid(request)
        query = parse_query(request, AttemptQuery)
        after = decode_cursor(query.cursor)

        async def read(conn: Connection) -> list[store.Attempt]:
            await found(conn, subscription_id)
            return await store.attempts_page(conn, subscription_id, query.delivery, after, query.limit)

        items = await run(read)
        more = len(items) == query.limit
        cursor = encode_cursor(items[-1].attempted_at, items[-1].id) if more else None
        return json_response(AttemptPage(items=[attempt_out(a) for a in items], next_cursor=cursor))

    async def redeliver(request: Request) -> Response:
        await require_role(request, Role.admin)
        delivery_id = path_uuid(request)

        async def again(conn: Connection) -> store.Delivery | None:
            queued = await store.redeliver(conn, delivery_id)
            if queued is not None:
                await store.notify(conn, queued.subscription_id)
            return queued

        queued = await run(again, transaction=True)
        if queued is None:
            raise NotFound(f"no delivery {delivery_id}")
        return json_response(delivery_out(queued))

    async def replay(request: Request) -> Response:
        await require_role(request, Role.admin)
        subscription_id = path_uuid(request)
        body = await read_json(request, ReplayIn, limit=MAX_BODY)
        until = body.until or datetime.now(UTC)

        async def queue(conn: Connection) -> int:
            await found(conn, subscription_id)
            count = await store.replay(conn, subscription_id, body.since, until)
            await store.notify(conn, subscription_id)
            return count

        return json_response(ReplayOut(queued=await run(queue, transaction=True)))

    one = {"id": UUID_PARAM}
    tag = "webhooks"
    base = "/v1/webhooks/subscriptions"
    return [
        Operation(
            "POST",
            base,
            create,
            "Subscribe a URL to events (the signing secret is shown once)",
            tag,
            auth=Role.admin,
            body=SubscriptionIn,
            response=SubscriptionWithSecret,
            status=201,
        ),
        Operation(
            "GET",
            base,
            list_subscriptions,
            "Subscriptions, newest first (never their secrets)",
            tag,
            auth=Role.admin,
            query=PageQuery,
            response=SubscriptionPage,
        ),
        Operation(
            "GET",
            f"{base}/{{id}}",
            show,
            "One subscription",
            tag,
            auth=Role.admin,
            path_params=one,
            response=SubscriptionOut,
        ),
        Operation(
            "PATCH",
            f"{base}/{{id}}",
            change,
            "Change a subscription; enabling it sends what waits",
            tag,
            auth=Role.admin,
            path_params=one,
            body=SubscriptionPatch,
            response=SubscriptionOut,
        ),
        Operation(
            "DELETE",
            f"{base}/{{id}}",
            remove,
            "Delete a subscription and its deliveries",
            tag,
            auth=Role.admin,
            path_params=one,
            status=204,
        ),
        Operation(
            "POST",
            f"{base}/{{id}}/secret",
            rotate,
            "Rotate the signing secret; the old one signs too for a while",
            tag,
            auth=Role.admin,
            path_params=one,
            body=Rotation,
            body_optional=True,
            response=SubscriptionWithSecret,
        ),
        Operation(
            "GET",
            f"{base}/{{id}}/deliveries",
            deliveries,
            "The subscription's deliveries, newest first",
            tag,
            auth=Role.admin,
            path_params=one,
            query=DeliveryQuery,
            response=DeliveryPage,
        ),
        Operation(
            "GET",
            f"{base}/{{id}}/attempts",
            attempts,
            "The delivery log: every attempt, newest first",
            tag,
            auth=Role.admin,
            path_params=one,
            query=AttemptQuery,
            response=AttemptPage,
        ),
        Operation(
            "POST",
            f"{base}/{{id}}/replay",
            replay,
            "Send again the events of a time range (same webhook-ids)",
            tag,
            auth=Role.admin,
            path_params=one,
            body=ReplayIn,
            response=ReplayOut,
        ),
        Operation(
            "POST",
            "/v1/webhooks/deliveries/{id}/redeliver",
            redeliver,
            "Send one delivery again, now",
            tag,
            auth=Role.admin,
            path_params=one,
            response=DeliveryOut,
        ),
    ]
