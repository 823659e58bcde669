"""Operating the API: health, readiness, metrics, request ids, the OpenAPI document, problems."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx2
import pytest
from jsonschema import Draft202012Validator
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Route

from cms.app import create_app, operations
from cms.system import SystemSettings
from tests.helpers import bearer, create_draft, patch

PROBLEM = "application/problem+json"


class TcpProxy:
    """Forwards a local port to the database until `cut`: then every connection is dropped
    (open ones reset, new ones closed on accept) until `restore`."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.forwarding = True
        self.port = 0
        self._open: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        self.forwarding = False
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    def restore(self) -> None:
        self.forwarding = True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.forwarding:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, upstream_writer}
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            self._open.discard(writer)
            writer.transport.abort()


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    target = urlsplit(database_url)
    running = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def proxied_api(settings: SystemSettings, proxy: TcpProxy) -> AsyncIterator[httpx2.AsyncClient]:
    """The application with its pool reaching the database only through `proxy`."""
    parts = urlsplit(settings.database_url)
    dsn = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    application = create_app(settings.model_copy(update={"database_url": dsn}))
    async with (
        application.router.lifespan_context(application),
        httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=application), base_url="http://cms.test"
        ) as client,
    ):
        yield client


# --- liveness and readiness -------------------------------------------------------------


async def test_healthz_answers_200_ok(api: httpx2.AsyncClient) -> None:
    """/healthz answers 200 with status ok: the process is alive and serving."""
    response = await api.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_answers_200_when_the_database_answers(api: httpx2.AsyncClient) -> None:
    """/readyz answers 200 and reports the database check as passed."""
    response = await api.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": True}}


async def test_readyz_answers_503_problem_when_the_database_is_unreachable(
    proxied_api: httpx2.AsyncClient, proxy: TcpProxy
) -> None:
    """With the database cut off, /readyz is a 503 problem with Retry-After and the failed check named."""
    assert (await proxied_api.get("/readyz")).status_code == 200

    proxy.cut()
    response = await proxied_api.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"].isdigit()
    body = response.json()
    assert body["status"] == 503
    assert body["title"]
    assert body["type"].startswith("https://")
    assert body["checks"] == {"database": False}


async def test_readyz_answers_200_again_once_the_database_is_back(
    proxied_api: httpx2.AsyncClient, proxy: TcpProxy
) -> None:
    """Readiness recovers on its own once the database answers again."""
    proxy.cut()
    assert (await proxied_api.get("/readyz")).status_code == 503

    proxy.restore()
    response = await proxied_api.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True}


async def test_a_request_needing_the_unreachable_database_is_503_problem_not_500(
    proxied_api: httpx2.AsyncClient, proxy: TcpProxy
) -> None:
    """An API call while the database is unreachable is a 503 problem each time, never a 500."""
    assert (await proxied_api.get("/v1/content/articles")).status_code == 200

    proxy.cut()
    responses = [await proxied_api.get("/v1/content/articles") for _ in range(2)]

    assert [r.status_code for r in responses] == [503, 503]
    assert {r.headers["content-type"] for r in responses} == {PROBLEM}
    assert all(r.json()["status"] == 503 for r in responses)


# --- metrics ------------------------------------------------------------------------------


def _samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


async def _get_two_articles(api: httpx2.AsyncClient, token: dict[str, str]) -> list[str]:
    ids = [(await create_draft(api, token["author"], title=f"Artikel {n}"))["id"] for n in range(2)]
    for article_id in ids:
        response = await api.get(f"/v1/admin/articles/{article_id}", headers=bearer(token["author"]))
        assert response.status_code == 200
    return ids


async def test_metrics_count_requests_by_route_template_not_by_concrete_path(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Request counts are labelled by route template, so no article id appears in /metrics."""
    ids = await _get_two_articles(api, token)

    text = (await api.get("/metrics")).text

    counts = {
        (labels["method"], labels["route"], labels["status"]): value
        for labels, value in _samples(text, "cms_http_requests_total")
    }
    assert counts[("GET", "/v1/admin/articles/{id}", "200")] == 2
    assert counts[("POST", "/v1/admin/articles", "201")] == 2
    assert not any(article_id in text for article_id in ids)


async def test_metrics_have_a_latency_histogram_by_route_template(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Request latency is a histogram per route template, with no article id in its labels."""
    ids = await _get_two_articles(api, token)

    text = (await api.get("/metrics")).text

    buckets = [
        (labels, value)
        for labels, value in _samples(text, "cms_http_request_duration_seconds_bucket")
        if labels["route"] == "/v1/admin/articles/{id}" and labels["method"] == "GET"
    ]
    assert len(buckets) > 5
    assert {labels["le"] for labels, value in buckets if value == 2} >= {"+Inf"}
    observed = _samples(text, "cms_http_request_duration_seconds_count")
    assert ({"method": "GET", "route": "/v1/admin/articles/{id}"}, 2.0) in observed
    assert not any(article_id in text for article_id in ids)


async def test_metrics_put_unknown_paths_in_one_series_not_one_per_path(api: httpx2.AsyncClient) -> None:
    """Paths no route serves share one `unmatched` series, so scanners cannot grow the metrics."""
    for n in range(3):
        assert (await api.get(f"/no/such/page/{n}")).status_code == 404

    text = (await api.get("/metrics")).text

    routes = {labels["route"] for labels, _ in _samples(text, "cms_http_requests_total")}
    assert not any("/no/such/page" in route for route in routes)
    assert ({"method": "GET", "route": "unmatched", "status": "404"}, 3.0) in _samples(
        text, "cms_http_requests_total"
    )


# --- request ids --------------------------------------------------------------------------


async def test_x_request_id_sent_is_echoed(api: httpx2.AsyncClient) -> None:
    """A caller's X-Request-ID comes back unchanged on the response."""
    response = await api.get("/healthz", headers={"X-Request-ID": "edit-desk-42"})

    assert response.headers["x-request-id"] == "edit-desk-42"


async def test_x_request_id_is_generated_when_absent_and_differs_per_request(api: httpx2.AsyncClient) -> None:
    """Without X-Request-ID each response carries a fresh 32-hex id of its own."""
    first, second = [(await api.get("/healthz")).headers["x-request-id"] for _ in range(2)]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


async def test_x_request_id_is_echoed_on_error_responses_too(api: httpx2.AsyncClient) -> None:
    """The request id is echoed on a 401 as well, so a failed call can be traced."""
    response = await api.get("/v1/admin/articles", headers={"X-Request-ID": "no-token-1"})

    assert response.status_code == 401
    assert response.headers["x-request-id"] == "no-token-1"


async def test_an_overlong_x_request_id_is_replaced_not_echoed(api: httpx2.AsyncClient) -> None:
    """A 500-character request id is not echoed back; a generated one replaces it."""
    sent = "x" * 500

    response = await api.get("/healthz", headers={"X-Request-ID": sent})

    assert response.headers["x-request-id"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"\xe9" * 128, id="latin-1 letters"),
        pytest.param("Stabschefs-ä".encode(), id="utf-8"),
        pytest.param(b"req\x0b42", id="control character"),
        pytest.param(b"req\x7f42", id="delete"),
    ],
)
async def test_a_request_id_that_is_not_printable_ascii_is_replaced_in_the_echo_and_the_event(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record], sent: bytes
) -> None:
    """Only printable ASCII travels on as a request id: echo, logs and the event's correlation_id."""
    response = await api.post(
        "/v1/admin/articles",
        json={"title": "Stabschefs", "language": "de"},
        headers=[(b"Authorization", f"Bearer {token['editor']}".encode()), (b"X-Request-ID", sent)],
    )

    assert response.status_code == 201
    echoed = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", echoed)
    assert await db.fetchval(
        "SELECT correlation_id FROM outbox WHERE article_id = $1", response.json()["id"]
    ) == (echoed)


async def test_a_printable_ascii_request_id_with_inner_spaces_is_kept(api: httpx2.AsyncClient) -> None:
    """A caller's own id, punctuation and inner spaces included, is passed on unchanged."""
    sent = "desk 7/req:42 (retry #2)"

    response = await api.get("/healthz", headers={"X-Request-ID": sent})

    assert response.headers["x-request-id"] == sent


# --- the OpenAPI document and its page ----------------------------------------------------


@pytest.fixture
async def spec(api: httpx2.AsyncClient) -> dict[str, Any]:
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def _served(app: Starlette) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }


def _documented(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema["$ref"]
    assert ref.startswith("#/components/schemas/")
    found: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return found


def _each_operation(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in spec["paths"].items() for method, op in item.items()]


async def test_openapi_lists_every_route_the_app_serves(spec: dict[str, Any], app: Starlette) -> None:
    """/openapi.json documents exactly the routes the application serves, none missing, none extra."""
    served = _served(app)

    assert len(served) >= 19
    assert served - _documented(spec) == set()
    assert _documented(spec) - served == set()


async def test_openapi_lists_each_path_parameter_as_required(spec: dict[str, Any]) -> None:
    """Every {name} in a documented path is a required path parameter, and no other is."""
    for method, path, op in _each_operation(spec):
        in_path = {p["name"] for p in op.get("parameters", []) if p["in"] == "path" and p["required"]}
        assert in_path == set(re.findall(r"{(\w+)}", path)), f"{method} {path}"


async def test_openapi_lists_each_query_field_as_a_query_parameter(spec: dict[str, Any]) -> None:
    """Each operation documents exactly the query fields its query model accepts."""
    with_query = [op for op in operations() if op.query is not None]
    assert len(with_query) >= 5

    for op in with_query:
        assert op.query is not None
        documented = {
            p["name"] for p in spec["paths"][op.path][op.method.lower()]["parameters"] if p["in"] == "query"
        }
        # By the names a caller sends: a field's alias where it has one (`from`, a Python keyword).
        accepted = {field.alias or name for name, field in op.query.model_fields.items()}
        assert documented == accepted, f"{op.method} {op.path}"


async def test_openapi_describes_each_request_body_with_its_model(spec: dict[str, Any]) -> None:
    """Each request body is documented with its model's fields and requiredness, and only where one exists."""
    for op in operations():
        documented = spec["paths"][op.path][op.method.lower()]
        if op.body is None:
            assert "requestBody" not in documented, f"{op.method} {op.path}"
            continue
        body = documented["requestBody"]
        assert body["required"] is not op.body_optional
        schema = _resolve(spec, body["content"]["application/json"]["schema"])
        assert set(schema["properties"]) == set(op.body.model_fields), f"{op.method} {op.path}"

    create = spec["paths"]["/v1/admin/articles"]["post"]["requestBody"]["content"]["application/json"]
    assert set(_resolve(spec, create["schema"])["required"]) == {"title", "language"}


async def test_openapi_documents_a_success_and_the_problems_of_each_operation(spec: dict[str, Any]) -> None:
    """Each operation lists its success (a 2xx, or a 301 for a redirect) and its problems as
    problem+json, 401 and 403 where a token is needed."""
    for method, path, op in _each_operation(spec):
        responses = op["responses"]
        assert any(code.startswith("2") or code == "301" for code in responses), f"{method} {path}"
        for code, answer in responses.items():
            if int(code) >= 400:
                schema = answer["content"][PROBLEM]["schema"]
                assert _resolve(spec, schema)["required"] == ["type", "title", "status"]
        if op.get("security"):
            assert {"401", "403"} <= set(responses), f"{method} {path}"

    article = spec["paths"]["/v1/admin/articles/{id}"]["patch"]["responses"]
    assert {"200", "401", "403", "404", "409", "412", "422", "428"} <= set(article)
    assert _resolve(spec, article["200"]["content"]["application/json"]["schema"])["properties"]["version"]


async def test_openapi_references_all_resolve_to_valid_json_schemas(spec: dict[str, Any]) -> None:
    """The OpenAPI 3.1 document has no dangling $ref and each component is a valid JSON Schema."""
    text = str(spec)
    refs = set(re.findall(r"'\$ref': '#/components/schemas/([^']+)'", text))
    schemas = spec["components"]["schemas"]

    assert refs
    assert refs - set(schemas) == set()
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    assert spec["openapi"].startswith("3.1")


async def test_docs_page_is_html_that_loads_the_document(api: httpx2.AsyncClient) -> None:
    """/docs is an HTML page that loads /openapi.json."""
    response = await api.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text
    assert "<html" in response.text


# --- every error is a problem -------------------------------------------------------------

Call = Callable[[httpx2.AsyncClient, dict[str, str], dict[str, Any]], Awaitable[httpx2.Response]]


async def _too_large(
    api: httpx2.AsyncClient, token: dict[str, str], article: dict[str, Any]
) -> httpx2.Response:
    body = b'{"title": "' + b"x" * (3 * 1024 * 1024) + b'", "language": "de"}'
    headers = {**bearer(token["author"]), "Content-Type": "application/json"}
    return await api.post("/v1/admin/articles", content=body, headers=headers)


_ERRORS: dict[str, tuple[int, Call]] = {
    "no token": (401, lambda api, token, article: api.get("/v1/admin/articles")),
    "unknown token": (
        401,
        lambda api, token, article: api.get("/v1/admin/articles", headers=bearer("cms_nope")),
    ),
    "role too low": (
        403,
        lambda api, token, article: api.delete(
            f"/v1/admin/articles/{article['id']}", headers={**bearer(token["author"]), "If-Match": '"1"'}
        ),
    ),
    "malformed id": (
        404,
        lambda api, token, article: api.get("/v1/admin/articles/42", headers=bearer(token["author"])),
    ),
    "unknown id": (
        404,
        lambda api, token, article: api.get(
            f"/v1/admin/articles/{uuid.uuid4()}", headers=bearer(token["author"])
        ),
    ),
    "unknown path": (404, lambda api, token, article: api.get("/v2/nothing")),
    "method not allowed": (405, lambda api, token, article: api.put("/v1/admin/articles")),
    "malformed json": (
        400,
        lambda api, token, article: api.post(
            "/v1/admin/articles",
            content=b'{"title": ',
            headers={**bearer(token["author"]), "Content-Type": "application/json"},
        ),
    ),
    "not json": (
        415,
        lambda api, token, article: api.post(
            "/v1/admin/articles",
            content=b"title=x",
            headers={**bearer(token["author"]), "Content-Type": "application/x-www-form-urlencoded"},
        ),
    ),
    "too large": (413, _too_large),
    "invalid field": (
        422,
        lambda api, token, article: api.post(
            "/v1/admin/articles", json={"title": "", "language": "de"}, headers=bearer(token["author"])
        ),
    ),
    "invalid query": (422, lambda api, token, article: api.get("/v1/content/articles?limit=0")),
    "no if-match": (
        428,
        lambda api, token, article: api.patch(
            f"/v1/admin/articles/{article['id']}", json={"lead": "x"}, headers=bearer(token["author"])
        ),
    ),
    "stale if-match": (
        412,
        lambda api, token, article: patch(api, token["author"], article, version=7, lead="x"),
    ),
    "invalid transition": (
        409,
        lambda api, token, article: api.post(
            f"/v1/admin/articles/{article['id']}/unpublish", headers=bearer(token["editor"])
        ),
    ),
}


@pytest.mark.parametrize("case", list(_ERRORS), ids=list(_ERRORS))
async def test_every_error_is_problem_json_with_type_title_and_status(
    api: httpx2.AsyncClient, token: dict[str, str], case: str
) -> None:
    """Each kind of error answers application/problem+json with a type, a title and its status."""
    status, call = _ERRORS[case]
    article = await create_draft(api, token["author"])

    response = await call(api, token, article)

    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["type"], str)
    assert body["type"]
