"""Where an article is live now: on delivery, in the outbox, and in each consumer's own view.

The consumers are separate processes with their own stores; the content app asks their HTTP
status endpoints (never imports them), all at once and each with a short timeout. A consumer
that does not answer in time, or answers with an error, is shown as `unknown` with the reason:
it never delays the answer past the timeout nor fails it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

import httpx2
from pydantic import BaseModel, Field

from cms.articles import queries, service
from cms.events import outbox
from cms.events.contract import Article, Status
from cms.platform.db import Connection


class DeliveryView(BaseModel):
    live: bool = Field(description="whether the delivery API shows it now")
    version: int | None = Field(description="the version delivery shows, when live")
    status: Status
    reason: str | None = Field(description="why it is not live, when it is not")


class OutboxView(BaseModel):
    unsent: int = Field(description="events written, not yet confirmed by the broker")
    parked: int = Field(description="events the broker refused, waiting for an operator")
    oldest_unsent_at: datetime | None
    oldest_parked_at: datetime | None


class SearchView(BaseModel):
    state: Literal["indexed", "not_indexed", "unknown"]
    version: int | None = None
    indexed_at: datetime | None = None
    reason: str | None = None


class SocialPostView(BaseModel):
    id: uuid.UUID
    channel: str
    status: str
    remote_url: str | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    updated_at: datetime


class SocialView(BaseModel):
    state: Literal["known", "unknown"]
    posts: list[SocialPostView] = []
    reason: str | None = None


class AdsView(BaseModel):
    state: Literal["live", "none", "unknown"]
    version: int | None = None
    slots: int = 0
    brand_safety: str | None = None
    reason: str | None = None


class ConsumerViews(BaseModel):
    search: SearchView
    social: SocialView
    ads: AdsView


class Distribution(BaseModel):
    article_id: uuid.UUID
    version: int = Field(description="the article's current version")
    delivery: DeliveryView
    outbox: OutboxView
    consumers: ConsumerViews


@dataclass(frozen=True)
class Consumers:
    """Where the consumers' HTTP faces are, how long each may take, and what to authorize with."""

    search_url: str
    social_url: str
    ads_url: str
    timeout: float
    credentials: dict[str, str]  # the headers that authenticate us to the consumers


@dataclass(frozen=True)
class Local:
    """What the content app's own database says."""

    article: Article
    delivery: DeliveryView
    outbox: OutboxView


async def local_view(conn: Connection, article_id: uuid.UUID) -> Local:
    article = await service.get(conn, article_id)
    live = await queries.is_live(conn, article_id)
    backlog = await outbox.article_backlog(conn, article_id)
    return Local(
        article,
        DeliveryView(
            live=live,
            version=article.version if live else None,
            status=article.status,
            reason=None if live else _why_not_live(article),
        ),
        OutboxView(**backlog.__dict__),
    )


def _why_not_live(article: Article) -> str:
    match article.status:
        case "draft":
            return "a draft: not published"
        case "in_review":
            return "in review: not published"
        case "scheduled":
            return f"scheduled: goes live at {article.publish_at}"
        case "unpublished":
            return "unpublished"
        case "killed":
            return "killed: taken down for legal reasons"
        case _:
            return f"expired at {article.unpublish_at}: the scheduler takes it down"


async def consumer_views(article_id: uuid.UUID, where: Consumers) -> ConsumerViews:
    headers = where.credentials
    # trust_env=False: a proxy set for the process's outbound traffic must not sit between
    # the API and its own consumers.
    async with httpx2.AsyncClient(
        timeout=httpx2.Timeout(where.timeout), headers=headers, trust_env=False, follow_redirects=False
    ) as client:
        search, social, ads = await asyncio.gather(
            _ask(where.timeout, lambda: _search(client, where.search_url, article_id), _unknown_search),
            _ask(where.timeout, lambda: _social(client, where.social_url, article_id), _unknown_social),
            _ask(where.timeout, lambda: _ads(client, where.ads_url, article_id), _unknown_ads),
        )
    return ConsumerViews(search=search, social=social, ads=ads)


V = TypeVar("V")


async def _ask(within: float, call: Callable[[], Awaitable[V]], unknown: Callable[[str], V]) -> V:
    """The consumer's view, or `unknown(reason)`: whatever goes wrong stays inside this call."""
    try:
        # A hard bound besides httpx's own (per phase) timeouts: the whole exchange, DNS included.
        async with asyncio.timeout(within):
            return await call()
    except TimeoutError:
        return unknown(f"no answer within {within:g} s")
    except httpx2.TimeoutException:
        return unknown(f"no answer within {within:g} s")
    except httpx2.TransportError as exc:
        return unknown(f"unreachable: {type(exc).__name__}: {exc}"[:300])
    except _Refused as exc:
        return unknown(str(exc))
    except Exception as exc:  # an answer we cannot read is unknown, never a 500 of ours
        return unknown(f"unreadable answer: {type(exc).__name__}"[:300])


class _Refused(Exception):
    """The consumer answered, but with an error status."""


def _check(response: httpx2.Response) -> None:
    if response.status_code >= 400:
        raise _Refused(f"answered {response.status_code}")


async def _search(client: httpx2.AsyncClient, base: str, article_id: uuid.UUID) -> SearchView:
    response = await client.get(f"{base}/v1/search/articles/{article_id}")
    if _says_not_found(response):
        return SearchView(state="not_indexed")
    _check(response)
    found = response.json()
    return SearchView(state="indexed", version=found["version"], indexed_at=found["indexed_at"])


async def _social(client: httpx2.AsyncClient, base: str, article_id: uuid.UUID) -> SocialView:
    response = await client.get(f"{base}/v1/social/posts", params={"article": str(article_id), "limit": 100})
    _check(response)
    posts = [SocialPostView.model_validate(post) for post in response.json()["items"]]
    return SocialView(state="known", posts=posts)


async def _ads(client: httpx2.AsyncClient, base: str, article_id: uuid.UUID) -> AdsView:
    response = await client.get(f"{base}/v1/ads/articles/{article_id}/slots")
    if _says_not_found(response):
        return AdsView(state="none")
    _check(response)
    page = response.json()
    safety = page["targeting"].get("brand_safety")
    return AdsView(
        state="live",
        version=page["version"],
        slots=len(page["slots"]),
        brand_safety=safety if isinstance(safety, str) else None,
    )


def _says_not_found(response: httpx2.Response) -> bool:
    """The consumer's own "nothing for this article" (a not-found problem), not the 404 of a
    server that lacks the route (about:blank) or of something else on that port."""
    if response.status_code != 404 or not response.headers.get("content-type", "").startswith(_PROBLEM):
        return False
    kind = response.json().get("type")
    return isinstance(kind, str) and kind.endswith("/not-found")


_PROBLEM = "application/problem+json"


def _unknown_search(reason: str) -> SearchView:
    return SearchView(state="unknown", reason=reason)


def _unknown_social(reason: str) -> SocialView:
    return SocialView(state="unknown", reason=reason)


def _unknown_ads(reason: str) -> AdsView:
    return AdsView(state="unknown", reason=reason)
