"""One delivery attempt: sign the CloudEvent per Standard Webhooks, POST it through the guarded
transport, read at most a small part of the answer, and say what happened. Then the pure rule
for what comes next (`next_step`): delivered, retry at a time, or disable the subscription."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx2
import orjson
import tenacity
from standardwebhooks.webhooks import Webhook

from consumers.webhooks import safety
from consumers.webhooks.settings import WebhooksSettings

USER_AGENT = "newsroom-cms-webhooks/1"


def webhook_id(delivery_id: object) -> str:
    """The `webhook-id` of a delivery: the same on every attempt and redelivery."""
    return f"msg_{getattr(delivery_id, 'hex', delivery_id)}"


def signature(secrets: list[str], message_id: str, at: datetime, body: str) -> str:
    """`v1,<sig>` per secret, space-separated: during a rotation's overlap a receiver holding
    either secret verifies the message (Standard Webhooks allows several signatures)."""
    return " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)


@dataclass(frozen=True)
class Outcome:
    status: int | None  # the HTTP status; None: no answer (refused, unreachable, timed out)
    latency_ms: int
    error: str | None
    excerpt: str | None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status == 410


async def attempt(
    client: httpx2.AsyncClient,
    url: str,
    message_id: str,
    body: str,
    secrets: list[str],
    settings: WebhooksSettings,
) -> Outcome:
    at = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        # The excerpt is read raw: a compressed answer would be no excerpt, or a zip bomb.
        "accept-encoding": "identity",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature(secrets, message_id, at, body),
    }
    started = time.perf_counter()
    try:
        async with asyncio.timeout(settings.webhooks_timeout):
            async with client.stream("POST", url, content=body.encode(), headers=headers) as response:
                excerpt = await _read_capped(response, settings.webhooks_response_cap)
    except safety.TargetRefused as exc:
        return Outcome(None, _ms(started), f"refused: {exc}", None)
    except TimeoutError:
        return Outcome(None, _ms(started), f"timed out after {settings.webhooks_timeout:g} s", None)
    except httpx2.HTTPError as exc:
        return Outcome(None, _ms(started), f"{type(exc).__name__}: {exc}"[:500], None)
    status = response.status_code
    error = None if 200 <= status < 300 else f"answered {status}"
    if 300 <= status < 400:
        error = f"answered {status}: redirects are not followed"
    return Outcome(status, _ms(started), error, excerpt, _retry_after(response.headers.get("retry-after")))


async def _read_capped(response: httpx2.Response, cap: int) -> str:
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk[: cap - len(kept)]
        if len(kept) >= cap:
            break  # the rest is not read: closing the stream drops the connection
    return kept.decode("utf-8", errors="replace")


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _retry_after(value: str | None) -> float | None:
    """Seconds, or an HTTP date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


# --- what comes next ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivered:
    pass


@dataclass(frozen=True)
class RetryAt:
    at: datetime
    failing_since: datetime


@dataclass(frozen=True)
class Disable:
    """The subscription stops; the delivery stays pending for when it is enabled again."""

    reason: str
    failing_since: datetime


Step = Delivered | RetryAt | Disable


def backoff(failures: int, settings: WebhooksSettings) -> float:
    """Seconds before the next try after `failures` failures in a row: exponential with full
    jitter (tenacity's), so receivers coming back are not hit by every delivery at once."""
    wait = tenacity.wait_random_exponential(
        multiplier=settings.webhooks_backoff_initial, max=settings.webhooks_backoff_max
    )
    state = tenacity.RetryCallState(tenacity.AsyncRetrying(), None, (), {})
    state.attempt_number = max(1, failures)
    return float(wait(state))


def next_step(
    outcome: Outcome,
    *,
    failures_before: int,
    failing_since: datetime | None,
    now: datetime,
    settings: WebhooksSettings,
) -> Step:
    if outcome.delivered:
        return Delivered()
    since = failing_since or now
    if outcome.gone:
        return Disable("the receiver answered 410 Gone", since)
    if (now - since).total_seconds() >= settings.webhooks_retry_window:
        hours = settings.webhooks_retry_window / 3600
        return Disable(f"deliveries failed for {hours:g} h (last: {outcome.error})", since)
    pause = backoff(failures_before + 1, settings)
    if outcome.retry_after is not None:
        pause = max(pause, min(outcome.retry_after, settings.webhooks_retry_after_max))
    return RetryAt(now + timedelta(seconds=pause), since)


def body_of(event: dict[str, object]) -> str:
    return orjson.dumps(event).decode()
