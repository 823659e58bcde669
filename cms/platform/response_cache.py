"""An in-process cache of public delivery answers, dropped by surrogate key when content changes.

Only what any reader may be shown is kept: a 200 to a request without credentials whose
answer says it may be cached by anyone (`Cache-Control: public`, without `private`, `no-store`
or `no-cache`) and sets no cookie. Each entry is indexed by the surrogate keys its answer names
(`xkey`, see `cache_keys`), so a change drops exactly the answers that depend on it.

It serves only while whoever invalidates it says so (`serving`): the owner of the event
subscription turns it off the moment the subscription is lost, which also empties it, since
the changes missed meanwhile are unknown. Every entry also expires after `ttl` seconds, the
bound on staleness should events stop flowing upstream (the relay down) while the
subscription itself stays up.

The fill race: a miss reads the database, then stores. An invalidation that arrives in
between may concern what was read, so every invalidation (and every stop) advances a
generation, and a fill whose generation is no longer current is not stored. A read that
starts after the invalidation may still see the old row on a read replica that lags: for
`settle` seconds after a key was invalidated, answers naming it are not stored either.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CACHE_CONTROL = b"cache-control"
_SET_COOKIE = b"set-cookie"
_XKEY = b"xkey"
_ETAG = b"etag"
_CREDENTIALS = (b"authorization", b"cookie")
_UNSHARED = ("private", "no-store", "no-cache")
_IF_NONE_MATCH = b"if-none-match"
# What a 304 repeats of the 200 it stands for (RFC 9110 15.4.5); not the body's length or type.
_NOT_MODIFIED_HEADERS = (b"etag", b"cache-control", b"content-language", b"surrogate-key", b"xkey", b"vary")

Key = tuple[str, bytes]


@dataclass(frozen=True, slots=True)
class Entry:
    headers: list[tuple[bytes, bytes]]
    body: bytes
    keys: frozenset[str]
    etag: bytes | None
    expires: float

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(name) + len(value) for name, value in self.headers)


class CacheMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.hits = Counter(
            "cms_delivery_cache_hits", "Delivery answers served from memory", registry=registry
        )
        self.misses = Counter(
            "cms_delivery_cache_misses", "Cacheable delivery requests answered by the app", registry=registry
        )
        self.bypasses = Counter(
            "cms_delivery_cache_bypasses",
            "Delivery requests the cache did not look at (credentials, conditional, not serving)",
            registry=registry,
        )
        self.events = Counter(
            "cms_delivery_cache_events",
            "Change events received by the invalidating subscription",
            registry=registry,
        )
        self.invalidations = Counter(
            "cms_delivery_cache_invalidations", "Entries dropped because content changed", registry=registry
        )
        self.stale_fills = Counter(
            "cms_delivery_cache_stale_fills",
            "Answers not stored because an invalidation arrived while they were read",
            registry=registry,
        )
        self.evictions = Counter(
            "cms_delivery_cache_evictions",
            "Entries dropped to stay within the size bounds",
            registry=registry,
        )
        self.entries = Gauge("cms_delivery_cache_entries", "Entries held", registry=registry)
        self.bytes = Gauge("cms_delivery_cache_bytes", "Bytes of answers held", registry=registry)
        self.serving = Gauge(
            "cms_delivery_cache_serving", "1 while the invalidating subscription is up", registry=registry
        )


class ResponseCache:
    """Bounded (entries and bytes, least recently used first out), indexed by surrogate key."""

    def __init__(
        self,
        metrics: CacheMetrics,
        *,
        max_entries: int,
        max_bytes: int,
        ttl: float,
        settle: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.settle = settle
        self.clock = clock
        # When each surrogate key (or key prefix) was last invalidated, kept for `settle` seconds.
        self._invalidated: dict[str, float] = {}
        self._invalidated_prefixes: dict[str, float] = {}
        self.generation = 0
        self.serving = False
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._by_surrogate: dict[str, set[Key]] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> Entry | None:
        if not self.serving:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self.clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: Key, entry: Entry, generation: int) -> bool:
        """Store `entry`, read while `generation` was current; not if anything was invalidated
        since (the answer may predate that change) or the cache stopped serving."""
        if generation != self.generation or not self.serving or self._settling(entry.keys):
            self.metrics.stale_fills.inc()
            return False
        if entry.size > self.max_bytes or not entry.keys:
            # Too big to hold, or naming nothing an invalidation could find.
            return False
        if key in self._entries:
            self._drop(key)
        self._entries[key] = entry
        self._bytes += entry.size
        for surrogate in entry.keys:
            self._by_surrogate.setdefault(surrogate, set()).add(key)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
            self.metrics.evictions.inc()
        self._gauge()
        return True

    def invalidate(self, surrogates: Iterable[str], prefixes: tuple[str, ...] = ()) -> int:
        """Drop every entry naming one of `surrogates` or a key starting with one of `prefixes`;
        the generation advances even when nothing is held, for fills in flight."""
        self.generation += 1
        wanted = set(surrogates)
        if self.settle > 0:
            now = self.clock()
            self._forget_settled(now)
            self._invalidated.update(dict.fromkeys(wanted, now))
            self._invalidated_prefixes.update(dict.fromkeys(prefixes, now))
        if prefixes:
            wanted.update(name for name in self._by_surrogate if name.startswith(prefixes))
        doomed = {key for name in wanted for key in self._by_surrogate.get(name, ())}
        for key in doomed:
            self._drop(key)
        self.metrics.invalidations.inc(len(doomed))
        self._gauge()
        return len(doomed)

    def start(self) -> None:
        """Serve from now on, from empty: changes made while not serving were not seen."""
        self.clear()
        self.serving = True
        self.metrics.serving.set(1)

    def stop(self) -> None:
        """Serve nothing and forget everything, until `start`."""
        self.serving = False
        self.metrics.serving.set(0)
        self.clear()

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_surrogate.clear()
        self._bytes = 0
        self._gauge()

    def _settling(self, surrogates: frozenset[str]) -> bool:
        """Whether one of `surrogates` was invalidated less than `settle` seconds ago."""
        if not self._invalidated and not self._invalidated_prefixes:
            return False
        since = self.clock() - self.settle
        if any(self._invalidated.get(name, since) > since for name in surrogates):
            return True
        return any(
            at > since and any(name.startswith(prefix) for name in surrogates)
            for prefix, at in self._invalidated_prefixes.items()
        )

    def _forget_settled(self, now: float) -> None:
        since = now - self.settle
        for recent in (self._invalidated, self._invalidated_prefixes):
            for name in [name for name, at in recent.items() if at <= since]:
                del recent[name]

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size
        for surrogate in entry.keys:
            holders = self._by_surrogate.get(surrogate)
            if holders is not None:
                holders.discard(key)
                if not holders:
                    del self._by_surrogate[surrogate]

    def _gauge(self) -> None:
        self.metrics.entries.set(len(self._entries))
        self.metrics.bytes.set(self._bytes)


Cacheable = Callable[[str, bytes], bool]


class CachedDelivery:
    """ASGI middleware: answers cacheable GETs from `cache`, fills it from the app's answers.

    `cacheable(path, query_string)` says which requests may be kept (the hottest delivery
    answers); everything else, and every request with credentials, goes to the app untouched."""

    def __init__(self, app: ASGIApp, cache: ResponseCache, cacheable: Cacheable) -> None:
        self.app = app
        self.cache = cache
        self.cacheable = cacheable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        key: Key = (scope["path"], scope["query_string"])
        if not self.cacheable(*key):
            await self.app(scope, receive, send)
            return
        cache = self.cache
        conditional = None
        for name, value in scope["headers"]:
            if name in _CREDENTIALS:
                cache.metrics.bypasses.inc()
                await self.app(scope, receive, send)
                return
            if name == _IF_NONE_MATCH:
                conditional = value
        entry = cache.get(key)
        if entry is not None:
            cache.metrics.hits.inc()
            await _answer(entry, conditional, send)
            return
        if not cache.serving:
            cache.metrics.bypasses.inc()
            await self.app(scope, receive, send)
            return
        cache.metrics.misses.inc()
        if conditional is not None:
            # A 304 holds no body to keep; the next unconditional miss fills.
            await self.app(scope, receive, send)
            return
        await self._fill(key, scope, receive, send)

    async def _fill(self, key: Key, scope: Scope, receive: Receive, send: Send) -> None:
        generation = self.cache.generation
        start: Message | None = None
        chunks: list[bytes] = []
        complete = False

        async def keep(message: Message) -> None:
            nonlocal start, complete
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, keep)
        if start is None or not complete or start["status"] != 200:
            return
        headers = [(bytes(name).lower(), bytes(value)) for name, value in start.get("headers", ())]
        if not _shareable(headers):
            return
        entry = Entry(
            headers=headers,
            body=b"".join(chunks),
            keys=frozenset(_surrogates(headers)),
            etag=next((value for name, value in headers if name == _ETAG), None),
            expires=self.cache.clock() + self.cache.ttl,
        )
        self.cache.put(key, entry, generation)


async def _answer(entry: Entry, conditional: bytes | None, send: Send) -> None:
    if conditional is not None and entry.etag is not None and _matches(conditional, entry.etag):
        headers = [(name, value) for name, value in entry.headers if name in _NOT_MODIFIED_HEADERS]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": entry.headers})
    await send({"type": "http.response.body", "body": entry.body})


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    """RFC 9110 weak comparison of `If-None-Match` (`*` or a list of tags) with our strong tag."""
    wanted = if_none_match.strip()
    if wanted == b"*":
        return True
    return any(tag.strip().removeprefix(b"W/") == etag for tag in wanted.split(b","))


def _shareable(headers: list[tuple[bytes, bytes]]) -> bool:
    control = b""
    for name, value in headers:
        if name == _SET_COOKIE:
            return False
        if name == _CACHE_CONTROL:
            control += value.lower() + b","
    directives = {part.split(b"=")[0].strip().decode("latin-1") for part in control.split(b",")}
    # Said to be for everyone, explicitly: an answer without `public` is not presumed shareable.
    return "public" in directives and not directives.intersection(_UNSHARED)


def _surrogates(headers: list[tuple[bytes, bytes]]) -> Iterable[str]:
    for name, value in headers:
        if name == _XKEY:
            yield from value.decode("latin-1").split()
