"""Operator commands for a consumer's dead-letter queue: list, requeue, purge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cms.platform import amqp
from cms.platform.settings import PlatformSettings
from consumers.runtime.runner import ATTEMPT_HEADER, ERROR_HEADER, REASON_HEADER
from consumers.runtime.spec import ConsumerSpec
from consumers.runtime.topology import QUORUM, copy_of, dlq_name


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    type: str | None
    reason: str


@dataclass(frozen=True)
class Peek:
    queue: str
    count: int
    messages: list[DeadLetter]


async def peek(settings: PlatformSettings, spec: ConsumerSpec[Any], limit: int) -> Peek:
    """How many dead letters there are and why, for the first `limit`, leaving them all queued."""
    name = dlq_name(spec.queue(settings))
    async with amqp.confirming_channel(settings.amqp_url) as channel:
        queue = await channel.declare_queue(name, durable=True, arguments=QUORUM)
        total = queue.declaration_result.message_count or 0
        found = []
        held = []
        for _ in range(min(limit, total)):
            message = await queue.get(fail=False)
            if message is None:
                break
            held.append(message)
            reason = (message.headers or {}).get(REASON_HEADER, "?")
            reason_text = reason.decode() if isinstance(reason, bytes) else str(reason)
            found.append(DeadLetter(message.message_id, message.type, reason_text))
        for message in held:
            await message.nack(requeue=True)
    return Peek(name, total, found)


async def list_messages(settings: PlatformSettings, spec: ConsumerSpec[Any], limit: int) -> list[str]:
    """A count, then one line per message (without taking them off the queue)."""
    found = await peek(settings, spec, limit)
    lines = [f"{found.count} message(s) in {found.queue}"]
    lines += [f"{m.message_id}  {m.type}  {m.reason}" for m in found.messages]
    return lines


async def requeue(settings: PlatformSettings, spec: ConsumerSpec[Any]) -> int:
    """Move the dead letters there are now back to the work queue with a fresh attempt count."""
    work = spec.queue(settings)
    moved = 0
    async with amqp.confirming_channel(settings.amqp_url) as channel:
        queue = await channel.declare_queue(dlq_name(work), durable=True, arguments=QUORUM)
        # Only as many as were there: a message still poison dies again while we work, and
        # taking it again would loop for ever.
        for _ in range(queue.declaration_result.message_count or 0):
            message = await queue.get(fail=False)
            if message is None:
                break
            headers = {
                k: v
                for k, v in (message.headers or {}).items()
                if k not in (ATTEMPT_HEADER, REASON_HEADER, ERROR_HEADER)
            }
            await channel.default_exchange.publish(copy_of(message, headers), work, mandatory=True)
            await message.ack()
            moved += 1
    return moved


async def purge(settings: PlatformSettings, spec: ConsumerSpec[Any]) -> int:
    async with amqp.confirming_channel(settings.amqp_url) as channel:
        queue = await channel.declare_queue(dlq_name(spec.queue(settings)), durable=True, arguments=QUORUM)
        result = await queue.purge()
        return int(result.message_count or 0)
