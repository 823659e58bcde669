"""What every network adapter shares: the post it sends, the answers, and how HTTP failures
are classified (429 and 5xx and network errors: retry; other 4xx: refused for good)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx2

from consumers.runtime.errors import TransientError

MAX_REASON = 500


@dataclass(frozen=True)
class Outgoing:
    """A post as an adapter sees it (from the store row)."""

    article_id: uuid.UUID
    channel: str
    text: str
    key: str
    link_url: str
    card_title: str
    card_description: str
    language: str
    published_at: datetime
    remote_id: str | None


@dataclass(frozen=True)
class OutgoingReply:
    """A correction notice as an adapter sees it: a reply to the channel's post."""

    article_id: uuid.UUID
    channel: str
    correction_id: uuid.UUID
    text: str
    key: str
    language: str
    link_url: str
    parent_remote_id: str | None
    parent_key: str
    remote_id: str | None


@dataclass(frozen=True)
class Published:
    remote_id: str
    remote_url: str | None


class Refused(Exception):
    """The network refused the request for good (a 4xx other than 429): the post fails."""


class NotSent(TransientError):
    """Worth retrying, and certain not to have taken effect (429, connection refused)."""


class Unresolvable(Exception):
    """The outcome of an earlier send is unknown and cannot be found out safely."""


class Adapter(Protocol):
    # How long the network remembers an idempotency key (None: for ever, e.g. a record key).
    key_lifetime: timedelta | None

    async def publish(self, post: Outgoing) -> Published: ...

    async def retract(self, post: Outgoing) -> None: ...

    async def reply(self, reply: OutgoingReply) -> Published:
        """Post `reply.text` as a reply to the post `reply.parent_remote_id`, never top-level."""
        ...

    async def retract_reply(self, reply: OutgoingReply) -> None: ...


@asynccontextmanager
async def client(seconds: float) -> AsyncIterator[httpx2.AsyncClient]:
    """A client (`seconds` per call) whose transport failures come out as `TransientError`s."""
    async with httpx2.AsyncClient(timeout=seconds, follow_redirects=False) as http:
        try:
            yield http
        except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout) as exc:
            raise NotSent(f"could not connect: {type(exc).__name__}: {exc}") from exc
        except httpx2.TransportError as exc:
            raise TransientError(f"network error: {type(exc).__name__}: {exc}") from exc


def check(response: httpx2.Response, network: str, now: datetime | None = None) -> None:
    """Raise for anything but a 2xx: `NotSent` (429), `TransientError` (5xx, 408), `Refused`."""
    if response.is_success:
        return
    status = response.status_code
    reason = f"{network} answered {status}: {_reason(response)}"
    if status == 429:
        raise NotSent(reason, retry_after=retry_after(response.headers, now or datetime.now(UTC)))
    if status >= 500 or status == 408:
        raise TransientError(reason, retry_after=retry_after(response.headers, now or datetime.now(UTC)))
    raise Refused(reason)


def retry_after(headers: httpx2.Headers | dict[str, str], now: datetime) -> float | None:
    """Seconds to wait: `Retry-After` (seconds or an HTTP date), else a rate-limit reset time
    (Mastodon's `X-RateLimit-Reset` is ISO 8601, Bluesky's `ratelimit-reset` epoch seconds)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    value = lowered.get("retry-after")
    if value is not None:
        seconds = _seconds_or_date(value.strip(), now)
        if seconds is not None:
            return seconds
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        if name in lowered:
            at = _moment(lowered[name].strip())
            if at is not None:
                return max(0.0, (at - now).total_seconds())
    return None


def _seconds_or_date(value: str, now: datetime) -> float | None:
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, (at - now).total_seconds())


def _moment(value: str) -> datetime | None:
    if value.isascii() and value.isdigit():
        return datetime.fromtimestamp(int(value), tz=UTC)
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _reason(response: httpx2.Response) -> str:
    """The network's own words: Mastodon's `error`, Bluesky's `error: message`, else the body."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:MAX_REASON] or response.reason_phrase
    if isinstance(body, dict):
        parts = [str(body[key]) for key in ("error", "message", "error_description") if body.get(key)]
        if parts:
            return ": ".join(parts)[:MAX_REASON]
    return response.text[:MAX_REASON]
