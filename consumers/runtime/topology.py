"""The consumer's queues, declared idempotently at start.

<prefix>.events --(routing keys)--> <queue>            quorum, the work queue
<queue>.retry.<n>  quorum, TTL = nth delay, dead-letters back to <queue> (at least once)
<queue>.dlq        quorum, where messages that keep failing wait for an operator
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from pamqp.common import FieldTable

QUORUM: FieldTable = {"x-queue-type": "quorum"}


@dataclass(frozen=True)
class Topology:
    queue: AbstractQueue
    retry_queues: tuple[str, ...]
    dlq: str


def retry_queue_name(queue: str, attempt: int) -> str:
    return f"{queue}.retry.{attempt}"


def dlq_name(queue: str) -> str:
    return f"{queue}.dlq"


async def declare(
    channel: AbstractChannel,
    *,
    exchange: str,
    queue: str,
    routing_keys: tuple[str, ...],
    delays: tuple[float, ...],
) -> Topology:
    events = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
    work = await channel.declare_queue(queue, durable=True, arguments=QUORUM)
    for key in routing_keys:
        await work.bind(events, key)
    retries = []
    for attempt, delay in enumerate(delays, start=1):
        name = retry_queue_name(queue, attempt)
        await channel.declare_queue(
            name,
            durable=True,
            arguments={
                **QUORUM,
                "x-message-ttl": int(delay * 1000),
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": queue,
                # Quorum queues dead-letter at most once unless told otherwise.
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        retries.append(name)
    dlq = dlq_name(queue)
    await channel.declare_queue(dlq, durable=True, arguments=QUORUM)
    return Topology(queue=work, retry_queues=tuple(retries), dlq=dlq)


async def delete(channel: AbstractChannel, queue: str, attempts: int) -> None:
    """Remove every queue of a consumer (tests and decommissioning)."""
    for name in [queue, dlq_name(queue), *(retry_queue_name(queue, n) for n in range(1, attempts + 1))]:
        await channel.queue_delete(name, if_unused=False, if_empty=False)


def copy_of(message: AbstractIncomingMessage, headers: FieldTable) -> aio_pika.Message:
    """The same message, persistent, with `headers`: for moving it to another of these queues."""
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        content_type=message.content_type,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        type=message.type,
        timestamp=message.timestamp,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
