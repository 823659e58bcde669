"""Operator commands for a consumer's dead-letter queue: list, requeue, purge."""

from __future__ import annotations

from typing import Any

from cms.platform import amqp
from cms.platform.settings import PlatformSettings
from consumers.runtime.runner import ATTEMPT_HEADER, ERROR_HEADER, REASON_HEADER
from consumers.runtime.spec import ConsumerSpec
from consumers.runtime.topology import QUORUM, copy_of, dlq_name


async def list_messages(settings: PlatformSettings, spec: ConsumerSpec[Any], limit: int) -> list[str]:
    """A count, then one line per message (without taking them off the queue)."""
    name = dlq_name(spec.queue(settings))
    async with amqp.confirming_channel(settings.amqp_url) as channel:
        queue = await channel.declare_queue(name, durable=True, arguments=QUORUM)
        total = queue.declaration_result.message_count or 0
        lines = [f"{total} message(s) in {name}"]
        held = []
        for _ in range(min(limit, total)):
            message = await queue.get(fail=False)
            if message is None:
                break
            held.append(message)
            headers = message.headers or {}
            reason = headers.get(REASON_HEADER, "?")
            reason_text = reason.decode() if isinstance(reason, bytes) else str(reason)
            lines.append(f"{message.message_id}  {message.type}  {reason_text}")
        for message in held:
            await message.nack(requeue=True)
    return lines


async def requeue(settings: PlatformSettings, spec: ConsumerSpec[Any]) -> int:
    """Move every dead letter back to the work queue with a fresh attempt count."""
    work = spec.queue(settings)
    moved = 0
    async with amqp.confirming_channel(settings.amqp_url) as channel:
        queue = await channel.declare_queue(dlq_name(work), durable=True, arguments=QUORUM)
        while (message := await queue.get(fail=False)) is not None:
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
