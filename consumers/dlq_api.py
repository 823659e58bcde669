"""`/v1/admin/dead-letters`: every consumer's dead letters for operators (how many, and why),
and requeue, as `cms-consumer NAME dlq list|requeue` do from a shell. Mounted by `cms up`."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

import aio_pika.exceptions
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from cms.platform.settings import PlatformSettings
from consumers import dlq
from consumers.runtime.http import NotFound, Operation, Role, Unavailable, json_response, require_role
from consumers.runtime.spec import ConsumerSpec

T = TypeVar("T")
_SHOWN = 20
_CONSUMER_PARAM = {"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,63}$"}


class DeadLetter(BaseModel):
    message_id: str | None
    type: str | None
    reason: str


class DeadLetterQueue(BaseModel):
    consumer: str
    queue: str
    count: int
    messages: list[DeadLetter]


class DeadLetters(BaseModel):
    items: list[DeadLetterQueue]


class Requeued(BaseModel):
    consumer: str
    moved: int


def operations(settings: PlatformSettings, specs: Mapping[str, ConsumerSpec[Any]]) -> list[Operation]:
    async def list_dead_letters(request: Request) -> Response:
        await require_role(request, Role.admin)
        items = []
        for name, spec in specs.items():
            found = await _broker(dlq.peek(settings, spec, _SHOWN))
            shown = [
                DeadLetter(message_id=m.message_id, type=m.type, reason=m.reason) for m in found.messages
            ]
            items.append(DeadLetterQueue(consumer=name, queue=found.queue, count=found.count, messages=shown))
        return json_response(DeadLetters(items=items))

    async def requeue(request: Request) -> Response:
        await require_role(request, Role.admin)
        name = request.path_params["consumer"]
        spec = specs.get(name)
        if spec is None:
            raise NotFound(f"no consumer {name!r}; there are {', '.join(sorted(specs))}")
        moved = await _broker(dlq.requeue(settings, spec))
        return json_response(Requeued(consumer=name, moved=moved))

    return [
        Operation(
            "GET",
            "/v1/admin/dead-letters",
            list_dead_letters,
            f"Each consumer's dead letters: how many, and the first {_SHOWN} with why",
            "operations",
            auth=Role.admin,
            response=DeadLetters,
        ),
        Operation(
            "POST",
            "/v1/admin/dead-letters/{consumer}/requeue",
            requeue,
            "Move a consumer's dead letters back to its work queue, with fresh attempt counts",
            "operations",
            auth=Role.admin,
            path_params={"consumer": _CONSUMER_PARAM},
            response=Requeued,
        ),
    ]


async def _broker(work: Awaitable[T]) -> T:
    try:
        return await work
    except (aio_pika.exceptions.AMQPError, OSError) as exc:
        raise Unavailable(f"the broker is unreachable: {type(exc).__name__}") from exc
