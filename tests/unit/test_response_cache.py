"""The in-process delivery cache on its own: what it keeps, what drops it, its bounds and the
fill race, behind a small ASGI app that counts how often it was asked."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest
from prometheus_client import CollectorRegistry
from starlette.types import Receive, Scope, Send

from cms.articles.delivery_cache import cacheable, surrogates_of
from cms.platform.response_cache import CachedDelivery, CacheMetrics, ResponseCache

PUBLIC = b"public, max-age=60"


class Origin:
    """An ASGI app answering every path with a numbered body and the headers it is told to."""

    def __init__(self) -> None:
        self.calls = 0
        self.cache_control = PUBLIC
        self.xkey = b"article:a list:all"
        self.extra: list[tuple[bytes, bytes]] = []
        self.status = 200
        self.gate: asyncio.Event | None = None
        self.reading = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = f"answer {self.calls}".encode()
        if self.gate is not None:
            self.reading.set()
            await self.gate.wait()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"etag", f'"{self.calls}"'.encode()),
            (b"cache-control", self.cache_control),
            (b"xkey", self.xkey),
            *self.extra,
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(
    *, max_entries: int = 100, max_bytes: int = 1_000_000, ttl: float = 30.0, settle: float = 0.0
) -> tuple[ResponseCache, Origin, httpx2.AsyncClient, Clock]:
    clock = Clock()
    cache = ResponseCache(
        CacheMetrics(CollectorRegistry()),
        max_entries=max_entries,
        max_bytes=max_bytes,
        ttl=ttl,
        settle=settle,
        clock=clock,
    )
    cache.start()
    origin = Origin()
    app = CachedDelivery(origin, cache, cacheable)
    client = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://cms.test")
    return cache, origin, client, clock


def counted(cache: ResponseCache, name: str) -> float:
    metric: Any = getattr(cache.metrics, name)
    value: float = metric._value.get()
    return value


async def test_a_second_read_is_served_from_memory_with_the_same_body_and_headers() -> None:
    """The first read fills, the second is a hit: the origin is asked once, the answer is identical."""
    cache, origin, client, _ = make()
    first = await client.get("/v1/content/articles/a-slug")
    second = await client.get("/v1/content/articles/a-slug")
    assert origin.calls == 1
    assert second.content == first.content == b"answer 1"
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["cache-control"] == PUBLIC.decode()
    assert (counted(cache, "hits"), counted(cache, "misses")) == (1, 1)


async def test_a_matching_if_none_match_on_a_hit_is_304_without_a_body() -> None:
    """A hit answers a conditional request itself: 304, the ETag, no body."""
    _, origin, client, _ = make()
    await client.get("/v1/content/articles/a-slug")
    answer = await client.get("/v1/content/articles/a-slug", headers={"If-None-Match": '"1"'})
    assert answer.status_code == 304
    assert answer.content == b""
    assert answer.headers["etag"] == '"1"'
    other = await client.get("/v1/content/articles/a-slug", headers={"If-None-Match": '"7"'})
    assert (other.status_code, other.content) == (200, b"answer 1")
    assert origin.calls == 1


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer t"}, {"Cookie": "cms_session=s"}],
)
async def test_a_request_with_credentials_neither_reads_nor_fills_the_cache(headers: dict[str, str]) -> None:
    """Credentials go to the app every time, and what it answered them is never kept."""
    cache, origin, client, _ = make()
    await client.get("/v1/content/articles/a-slug", headers=headers)
    await client.get("/v1/content/articles/a-slug")
    again = await client.get("/v1/content/articles/a-slug", headers=headers)
    assert origin.calls == 3
    assert again.content == b"answer 3"
    assert len(cache) == 1  # only the anonymous answer
    assert counted(cache, "bypasses") == 2


@pytest.mark.parametrize(
    ("cache_control", "extra", "status"),
    [
        (b"private, no-store", [], 200),
        (b"no-cache", [], 200),
        (PUBLIC, [(b"set-cookie", b"a=b")], 200),
        (PUBLIC, [], 404),
        (b"max-age=60", [], 200),
        (b"", [], 200),
    ],
)
async def test_answers_not_meant_for_everyone_are_never_kept(
    cache_control: bytes, extra: list[tuple[bytes, bytes]], status: int
) -> None:
    """private/no-store/no-cache, not said public, a cookie being set or a non-200: never stored."""
    cache, origin, client, _ = make()
    origin.cache_control = cache_control
    origin.extra = extra
    origin.status = status
    await client.get("/v1/content/articles/a-slug")
    await client.get("/v1/content/articles/a-slug")
    assert origin.calls == 2
    assert len(cache) == 0


async def test_only_article_pages_and_first_list_pages_are_cached() -> None:
    """Deeper list pages, other paths and non-GET requests go to the app every time."""
    cache, origin, client, _ = make()
    for _ in range(2):
        await client.get("/v1/content/articles?cursor=abc")
        await client.get("/v1/admin/articles/a-slug")
        await client.head("/v1/content/articles/a-slug")
    assert origin.calls == 6
    assert len(cache) == 0
    await client.get("/v1/content/articles?language=de")
    await client.get("/v1/content/articles?language=de")
    assert origin.calls == 7


async def test_an_invalidation_drops_exactly_the_answers_naming_the_key() -> None:
    """article:a drops the answers that name it (and lists by prefix), not the others."""
    cache, origin, client, _ = make()
    await client.get("/v1/content/articles/a-slug")
    origin.xkey = b"article:b"
    await client.get("/v1/content/articles/b-slug")
    origin.xkey = b"list:section:x article:c"
    await client.get("/v1/content/articles?section=x")
    assert cache.invalidate(["article:a"]) == 1
    assert len(cache) == 2
    assert cache.invalidate(["article:zzz"], prefixes=("list:",)) == 1
    assert len(cache) == 1
    calls = origin.calls
    await client.get("/v1/content/articles/b-slug")
    assert origin.calls == calls  # still served from memory
    assert counted(cache, "invalidations") == 2


async def test_an_invalidation_during_a_fill_keeps_the_answer_out() -> None:
    """The fill race: an answer read before an invalidation arrived is passed on but not stored."""
    cache, origin, client, _ = make()
    origin.gate = asyncio.Event()
    reading = asyncio.create_task(client.get("/v1/content/articles/a-slug"))
    await asyncio.wait_for(origin.reading.wait(), timeout=5)
    cache.invalidate(["article:a"])
    origin.gate.set()
    answer = await reading
    assert answer.content == b"answer 1"
    assert len(cache) == 0
    assert counted(cache, "stale_fills") == 1
    origin.gate = None
    await client.get("/v1/content/articles/a-slug")
    assert len(cache) == 1  # the next miss fills


async def test_answers_depending_on_a_change_are_not_stored_until_it_settled() -> None:
    """For `settle` seconds after an invalidation (a lagging replica), its answers pass through unstored."""
    cache, origin, client, clock = make(settle=1.0)
    cache.invalidate(["article:a"], prefixes=("list:",))
    await client.get("/v1/content/articles/a-slug")  # names article:a
    origin.xkey = b"list:section:x article:c"
    await client.get("/v1/content/articles?section=x")  # a list: its prefix was invalidated
    origin.xkey = b"article:b"
    await client.get("/v1/content/articles/b-slug")  # unrelated: stored
    assert len(cache) == 1
    assert counted(cache, "stale_fills") == 2
    clock.now += 1.01
    origin.xkey = b"article:a"
    await client.get("/v1/content/articles/a-slug")
    origin.xkey = b"list:section:x article:c"
    await client.get("/v1/content/articles?section=x")
    assert len(cache) == 3


async def test_a_stopped_cache_serves_nothing_and_forgets_what_it_held() -> None:
    """Stopped (subscription lost): every read goes to the app; started again, it begins empty."""
    cache, origin, client, _ = make()
    await client.get("/v1/content/articles/a-slug")
    cache.stop()
    answer = await client.get("/v1/content/articles/a-slug")
    assert (answer.content, len(cache)) == (b"answer 2", 0)
    cache.start()
    await client.get("/v1/content/articles/a-slug")
    await client.get("/v1/content/articles/a-slug")
    assert origin.calls == 3


async def test_entries_expire_after_the_ttl() -> None:
    """The staleness bound when no invalidation comes: an entry older than the TTL is a miss."""
    _, origin, client, clock = make(ttl=5)
    await client.get("/v1/content/articles/a-slug")
    clock.now += 4.9
    await client.get("/v1/content/articles/a-slug")
    assert origin.calls == 1
    clock.now += 0.2
    answer = await client.get("/v1/content/articles/a-slug")
    assert (origin.calls, answer.content) == (2, b"answer 2")


async def test_the_cache_stays_within_its_entry_and_byte_bounds() -> None:
    """Past max_entries or max_bytes the least recently used entries go first."""
    cache, origin, client, _ = make(max_entries=3)
    for number in range(5):
        await client.get(f"/v1/content/articles/slug-{number}")
    assert len(cache) == 3
    calls = origin.calls
    await client.get("/v1/content/articles/slug-4")
    assert origin.calls == calls
    await client.get("/v1/content/articles/slug-0")
    assert origin.calls == calls + 1
    assert counted(cache, "evictions") >= 2
    small, _, small_client, _ = make(max_bytes=1024)
    for number in range(40):
        await small_client.get(f"/v1/content/articles/slug-{number}")
    assert 0 < len(small) < 40
    assert small.metrics.bytes._value.get() <= 1024


def test_events_name_the_article_they_change() -> None:
    """An event drops its article's key; a creation or a message that is not an event drops nothing."""
    assert surrogates_of(b'{"type": "cms.article.updated", "subject": "abc"}') == ["article:abc"]
    assert surrogates_of(b'{"type": "cms.article.killed", "subject": "abc"}') == ["article:abc"]
    assert surrogates_of(b'{"type": "cms.article.created", "subject": "abc"}') is None
    assert surrogates_of(b"not json") is None
    assert surrogates_of(b'{"type": 1}') is None
    assert surrogates_of(b"[1, 2]") is None
