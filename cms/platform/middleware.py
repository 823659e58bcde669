"""Per-request context: request id, one access log line, Prometheus figures."""

from __future__ import annotations

import time

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cms.platform import request_ids

log = structlog.get_logger("cms.access")

_REQUEST_ID = b"x-request-id"
_CACHE_CONTROL = b"cache-control"
_NO_STORE = b"private, no-store"
# An answer to a caller who sent credentials (a token, a session cookie: the admin API, drafts,
# autosaves) is that caller's alone: unless its endpoint said how to cache it, no cache keeps it.
_CREDENTIALS = (b"authorization", b"cookie")


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "cms_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "cms_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration. `labels()` checks its arguments and
        takes a lock on every call; the labelled series are looked up once per label set."""
        key = (method, route, status)
        series = self._children.get(key)
        if series is None:
            series = (self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
            self._children[key] = series
        series[0].inc()
        series[1].observe(seconds)


class RequestContext:
    """Binds the request id for every log line of the request and echoes it back."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (_REQUEST_ID, request_id.encode())]
                if _credentialed(scope) and not any(name.lower() == _CACHE_CONTROL for name, _ in headers):
                    headers.append((_CACHE_CONTROL, _NO_STORE))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            log.info(
                "http.request",
                method=scope["method"],
                path=_loggable_path(scope["path"], route),
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()


def _credentialed(scope: Scope) -> bool:
    return any(name in _CREDENTIALS for name, _ in scope["headers"])


def _request_id(scope: Scope) -> str:
    sent = next((value for name, value in scope["headers"] if name == _REQUEST_ID), None)
    return request_ids.from_header(sent)


def _route_template(scope: Scope) -> str:
    """The matched route's path template (set by the router), so metrics stay one series per route."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


def _loggable_path(path: str, route: str) -> str:
    """The path, unless a segment of it is a credential (a `{token}`, such as a preview link's):
    then the route template, so that log lines never carry a working secret."""
    return route if "{token}" in route else path
