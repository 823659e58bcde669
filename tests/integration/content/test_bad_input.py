"""Bad input: every case is a problem+json with the right status, never a 500, and writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import httpx2
import pytest
from starlette.applications import Starlette

from cms.app import create_app
from cms.articles import service
from cms.articles.model import ArticleCreate, ArticleUpdate
from cms.platform import auth
from cms.platform import db as cms_db
from cms.platform.tokens import Role
from cms.platform.web import MAX_DEPTH
from cms.system import SystemSettings
from tests.helpers import bearer, create_draft, fixture

Record = asyncpg.Record
TABLES = ("articles", "article_revisions", "outbox", "api_tokens")
UNKNOWN_ID = "6f1c1a5e-0000-4000-8000-000000000000"
TWO_MIB = 2 * 1024 * 1024


async def row_counts(db: asyncpg.Connection[Record]) -> dict[str, int]:
    return {table: await db.fetchval(f"SELECT count(*) FROM {table}") for table in TABLES}


def assert_problem(response: httpx2.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["title"]
    assert problem["type"]
    return problem


@pytest.fixture
async def article(api: httpx2.AsyncClient, token: dict[str, str]) -> dict[str, Any]:
    """One existing draft, so that a write that wrongly went through would show."""
    return await create_draft(api, token["editor"])


def writes(article: dict[str, Any], token: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """Every endpoint that reads a JSON body: (method, path, headers)."""
    editor = bearer(token["editor"])
    path = f"/v1/admin/articles/{article['id']}"
    return [
        ("POST", "/v1/admin/articles", editor),
        ("PATCH", path, {**editor, "If-Match": f'"{article["version"]}"'}),
        ("POST", f"{path}/publish", editor),
        ("POST", f"{path}/unpublish", editor),
        ("POST", "/v1/admin/tokens", bearer(token["admin"])),
    ]


# 400: not JSON


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"title": }',
        b"{'title': 'x'}",
        b'{"title": "x",}',
        b"\xff\xfe{}",
        b'{"title": "\\ud800", "language": "de"}',
        b'{"title": "x", "language": "de", "lead": 1e999}',
    ],
    ids=[
        "truncated",
        "no-value",
        "single-quotes",
        "trailing-comma",
        "not-utf8",
        "lone-surrogate",
        "infinity",
    ],
)
async def test_malformed_json_is_400_and_writes_nothing(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    article: dict[str, Any],
    body: bytes,
) -> None:
    """Broken JSON, bad UTF-8, lone surrogates or infinity: 400 on every body endpoint, nothing written."""
    before = await row_counts(db)

    for method, path, headers in writes(article, token):
        response = await api.request(
            method, path, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert "not valid JSON" in assert_problem(response, 400)["detail"], (method, path)

    assert await row_counts(db) == before


@pytest.mark.parametrize("depth", [33, 400, 1000])
async def test_json_nested_past_the_depth_limit_is_400_and_writes_nothing(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    article: dict[str, Any],
    depth: int,
) -> None:
    """A deeply nested body is a clear 400 on every body-taking endpoint, never a 500."""
    nested = b'{"title": "x", "language": "de", "lead": ' + b"[" * depth + b"]" * depth + b"}"
    before = await row_counts(db)

    for method, path, headers in writes(article, token):
        response = await api.request(
            method, path, content=nested, headers={**headers, "Content-Type": "application/json"}
        )
        assert "deeper than" in assert_problem(response, 400)["detail"], (method, path)

    assert await row_counts(db) == before


async def test_json_nested_exactly_to_the_limit_reaches_validation(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Nesting up to the limit is not refused for its depth: the model decides (422 here)."""
    lists = MAX_DEPTH - 1  # inside the top-level object
    nested = b'{"title": "x", "language": "de", "lead": ' + b"[" * lists + b"]" * lists + b"}"

    response = await api.post(
        "/v1/admin/articles",
        content=nested,
        headers={**bearer(token["editor"]), "Content-Type": "application/json"},
    )

    assert_problem(response, 422)


# 415: not JSON at all


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/json"],
)
async def test_a_body_that_is_not_declared_json_is_415_and_writes_nothing(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    article: dict[str, Any],
    content_type: str | None,
) -> None:
    """A body without a JSON content type is a 415 on every body endpoint, even if it parses."""
    before = await row_counts(db)

    for method, path, headers in writes(article, token):
        response = await api.request(
            method,
            path,
            content=b'{"title": "x", "language": "de", "name": "x", "role": "author"}',
            headers={**headers, **({"Content-Type": content_type} if content_type else {})},
        )
        assert_problem(response, 415)

    assert await row_counts(db) == before


async def test_json_with_a_charset_or_a_json_suffix_type_is_accepted(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """application/json with a charset, or a +json type, is JSON all the same and creates the article."""
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await api.post(
            "/v1/admin/articles",
            content=b'{"title": "Zeichensatz", "language": "de"}',
            headers={**bearer(token["author"]), "Content-Type": content_type},
        )
        assert response.status_code == 201, content_type


# 413: too big


async def test_a_body_declared_over_the_limit_is_413_and_writes_nothing(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], article: dict[str, Any]
) -> None:
    """A body over 2 MiB is refused with 413 naming the limit in bytes, and nothing is written."""
    big = b'{"title": "x", "language": "de", "lead": "' + b"a" * TWO_MIB + b'"}'
    before = await row_counts(db)

    response = await api.post(
        "/v1/admin/articles",
        content=big,
        headers={**bearer(token["author"]), "Content-Type": "application/json"},
    )

    assert "2097152" in assert_problem(response, 413)["detail"]
    assert await row_counts(db) == before


@pytest.fixture
async def small_api(settings: SystemSettings) -> AsyncIterator[httpx2.AsyncClient]:
    """The application with a 1 KiB body limit, so a streamed body passes it quickly."""
    application: Starlette = create_app(settings.model_copy(update={"max_body_bytes": 1024}))
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            yield client


class Stream:
    """A chunked request body without Content-Length that counts how much the server pulled."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.pulled += 1
            yield chunk


async def test_a_streamed_body_over_the_limit_is_413_without_reading_the_rest(
    small_api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A chunked body without Content-Length is cut off soon after the limit: 413, the rest never read."""
    body = Stream([b'{"title": "x", "language": "de", "lead": "'] + [b"a" * 512] * 200 + [b'"}'])
    before = await row_counts(db)

    response = await small_api.post(
        "/v1/admin/articles",
        content=body,
        headers={**bearer(token["author"]), "Content-Type": "application/json"},
    )

    assert "content-length" not in {name.lower() for name in response.request.headers}
    assert "1024" in assert_problem(response, 413)["detail"]
    assert body.pulled < 10  # of 202 chunks: refused as soon as it passed the limit
    assert await row_counts(db) == before


async def test_a_streamed_body_of_exactly_the_limit_is_accepted(
    small_api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A chunked body of exactly the limit is not refused: the limit is inclusive."""
    start, end = b'{"title": "Grenzfall", "language": "de", "lead": "', b'"}'
    padding = 1024 - len(start) - len(end)
    body = Stream([start, b"a" * (padding // 2), b"a" * (padding - padding // 2), end])

    response = await small_api.post(
        "/v1/admin/articles",
        content=body,
        headers={**bearer(token["author"]), "Content-Type": "application/json"},
    )

    assert response.status_code == 201, response.text
    assert len(response.json()["lead"]) == padding


# 422: valid JSON, invalid article


async def test_each_invalid_field_is_listed_with_its_location(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], article: dict[str, Any]
) -> None:
    """A 422 lists every invalid field with its path, down to the block, and blames no valid block."""
    before = await row_counts(db)

    response = await api.post(
        "/v1/admin/articles",
        json={
            "title": "   ",
            "language": "Deutsch",
            "slug": "Nicht Gültig",
            "tags": ["ok", "Nicht OK"],
            "body": [
                {"type": "paragraph", "text": "gut"},
                {"type": "heading", "text": "zu tief", "level": 7},
                {"type": "image", "url": "javascript:alert(1)", "alt": "x"},
                {"type": "video", "url": "https://example.org"},
            ],
            "related": ["keine-uuid"],
        },
        headers=bearer(token["author"]),
    )

    problem = assert_problem(response, 422)
    locs = [tuple(error["loc"]) for error in problem["errors"]]
    assert all(error["msg"] for error in problem["errors"])
    for expected in [
        ("body", "title"),
        ("body", "language"),
        ("body", "slug"),
        ("body", "tags", 1),
        ("body", "body", 1, "heading", "level"),
        ("body", "body", 2),
        ("body", "body", 3),
        ("body", "related", 0),
    ]:
        assert expected in locs, (expected, locs)
    assert not any(loc[:3] == ("body", "body", 0) for loc in locs)  # the good block is not blamed
    assert await row_counts(db) == before


async def test_missing_required_fields_are_each_listed(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """An empty object names both title and language as missing, and nothing is written."""
    response = await api.post("/v1/admin/articles", json={}, headers=bearer(token["author"]))

    locs = {tuple(error["loc"]) for error in assert_problem(response, 422)["errors"]}
    assert locs == {("body", "title"), ("body", "language")}
    assert await row_counts(db) == {"articles": 0, "article_revisions": 0, "outbox": 0, "api_tokens": 4}


@pytest.mark.parametrize("body", [b"[]", b'"Titel"', b"42", b"null", b'[{"title": "x", "language": "de"}]'])
async def test_a_body_that_is_not_an_object_is_422(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], body: bytes
) -> None:
    """An array, string, number or null where an object belongs is a 422, nothing written."""
    response = await api.post(
        "/v1/admin/articles",
        content=body,
        headers={**bearer(token["author"]), "Content-Type": "application/json"},
    )

    assert_problem(response, 422)
    assert await row_counts(db) == {"articles": 0, "article_revisions": 0, "outbox": 0, "api_tokens": 4}


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"body": [{"type": "image", "url": 'https://x" onerror="alert(1)', "alt": "x"}]}, "body"),
        ({"body": [{"type": "embed", "url": "http://x\nSet-Cookie: a"}]}, "body"),
        ({"body": [{"type": "image", "url": "https://user:pass@host/a.jpg", "alt": "x"}]}, "body"),
        ({"body": [{"type": "embed", "url": "http://"}]}, "body"),
        (
            {
                "body": [
                    {"type": "image", "url": "https://e.org/a.jpg", "alt": "<img src=x onerror=alert(1)>"}
                ]
            },
            "body",
        ),
        (
            {"body": [{"type": "image", "url": "https://e.org/a.jpg", "alt": "x", "credit": "<b>dpa</b>"}]},
            "body",
        ),
        ({"body": [{"type": "quote", "text": "Zitat", "attribution": "<script>x</script>"}]}, "body"),
        ({"authors": ["<a href='https://e.org'>Ada</a>"]}, "authors"),
        ({"lead": "Vorspann <iframe src=https://e.org>"}, "lead"),
    ],
    ids=[
        "quote-in-url",
        "newline-in-url",
        "credentials",
        "no-host",
        "alt",
        "credit",
        "attribution",
        "author",
        "lead",
    ],
)
async def test_loose_urls_and_markup_in_plain_text_fields_are_422_and_write_nothing(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    article: dict[str, Any],
    fields: dict[str, Any],
    loc: str,
) -> None:
    """Block URLs are parsed and plain-text fields refuse markup, on create and on update alike."""
    before = await row_counts(db)

    created = await api.post(
        "/v1/admin/articles", json={"title": "x", "language": "de", **fields}, headers=bearer(token["editor"])
    )
    patched = await api.patch(
        f"/v1/admin/articles/{article['id']}",
        json=fields,
        headers={**bearer(token["editor"]), "If-Match": f'"{article["version"]}"'},
    )

    for response in (created, patched):
        errors = assert_problem(response, 422)["errors"]
        assert [e for e in errors if e["loc"][:2] == ["body", loc]], errors
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    ("index", "body", "loc"),
    [
        (0, {"title": "x", "language": "de", "colour": "rot"}, ["body", "colour"]),
        (
            0,
            {"title": "x", "language": "de", "body": [{"type": "paragraph", "text": "x", "style": "y"}]},
            None,
        ),
        (1, {"lead": "x", "status": "published"}, ["body", "status"]),
        (1, {"lead": "x", "version": 99}, ["body", "version"]),
        (2, {"publish_at": None, "when": "now"}, ["body", "when"]),
        (3, {"at": "2030-01-01T00:00:00Z"}, ["body", "at"]),
        (4, {"name": "x", "role": "author", "token": "cms_chosen"}, ["body", "token"]),
    ],
    ids=["create", "create-block", "patch-status", "patch-version", "publish", "unpublish", "token"],
)
async def test_unknown_fields_are_422_and_named(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    article: dict[str, Any],
    index: int,
    body: dict[str, Any],
    loc: list[str] | None,
) -> None:
    """An unknown field on any write, a block included, is a 422 naming it, not silently dropped."""
    method, path, headers = writes(article, token)[index]
    before = await row_counts(db)

    response = await api.request(method, path, json=body, headers=headers)

    locs = [error["loc"] for error in assert_problem(response, 422)["errors"]]
    assert loc is None or loc in locs, locs
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    "body",
    [
        {"title": "Null\x00Byte", "language": "de"},
        {"title": "x", "language": "de", "body": [{"type": "paragraph", "text": "a\x00b"}]},
        {"title": "x", "language": "de", "authors": ["Ada\x00"]},
        {"title": "x", "language": "de", "ti\x00tle": "y"},
    ],
    ids=["title", "block-text", "author", "key"],
)
async def test_a_nul_character_is_422_not_500(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], body: dict[str, Any]
) -> None:
    """PostgreSQL text cannot hold NUL; it must be refused as input, not fail in the driver."""
    response = await api.post("/v1/admin/articles", json=body, headers=bearer(token["author"]))

    assert_problem(response, 422)
    assert await row_counts(db) == {"articles": 0, "article_revisions": 0, "outbox": 0, "api_tokens": 4}


async def test_a_nul_character_in_a_patch_or_a_token_name_is_422(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], article: dict[str, Any]
) -> None:
    """NUL in a patched lead or a token name is refused as input and changes nothing."""
    before = await row_counts(db)

    patched = await api.patch(
        f"/v1/admin/articles/{article['id']}",
        json={"lead": "\x00"},
        headers={**bearer(token["editor"]), "If-Match": '"1"'},
    )
    named = await api.post(
        "/v1/admin/tokens", json={"name": "\x00", "role": "author"}, headers=bearer(token["admin"])
    )

    assert_problem(patched, 422)
    assert_problem(named, 422)
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    "path",
    [
        "/v1/content/articles?section=a%00b",
        "/v1/content/articles?tag=%00",
        "/v1/admin/articles?language=de%00",
    ],
)
async def test_a_nul_character_in_a_query_is_422(
    api: httpx2.AsyncClient, token: dict[str, str], path: str
) -> None:
    """NUL in a query filter is a 422, not a driver error."""
    response = await api.get(path, headers=bearer(token["author"]))

    assert_problem(response, 422)


@pytest.mark.parametrize("slug", ["a%00b", "%C2%B2", "Gro%C3%9Fbuchstaben", "-", "x" * 300])
async def test_a_slug_that_no_article_could_have_is_404_on_delivery(
    api: httpx2.AsyncClient, slug: str
) -> None:
    """A slug no article could have (NUL, non-ASCII, uppercase, overlong) is a plain 404 on delivery."""
    response = await api.get(f"/v1/content/articles/{slug}")

    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("publish_at", "2030-01-01T09:00:00"),
        ("publish_at", "morgen"),
        ("publish_at", "9999-12-31T23:59:59-01:00"),
        ("publish_at", "0001-01-01T00:00:00+01:00"),
        ("unpublish_at", "9999-12-31T23:59:59-01:00"),
    ],
    ids=["naive", "not-a-time", "after-9999-in-utc", "before-year-1-in-utc", "unpublish-after-9999"],
)
async def test_a_schedule_time_that_is_naive_or_off_the_calendar_is_422(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    name: str,
    value: str,
) -> None:
    """A naive, unparsable or off-calendar publish_at or unpublish_at is a 422 on that field alone."""
    draft = await create_draft(api, token["editor"])
    if name == "unpublish_at":
        published = await api.post(
            f"/v1/admin/articles/{draft['id']}/publish", headers=bearer(token["editor"])
        )
        draft = published.json()
    before = await row_counts(db)
    endpoint = "publish" if name == "publish_at" else "unpublish"

    response = await api.post(
        f"/v1/admin/articles/{draft['id']}/{endpoint}", json={name: value}, headers=bearer(token["editor"])
    )

    assert [e["loc"] for e in assert_problem(response, 422)["errors"]] == [["body", name]]
    assert await row_counts(db) == before


async def test_relating_an_article_to_itself_is_422(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], article: dict[str, Any]
) -> None:
    """An article cannot list itself as related: 422 on body.related, nothing changed."""
    before = await row_counts(db)

    response = await api.patch(
        f"/v1/admin/articles/{article['id']}",
        json={"related": [article["id"]]},
        headers={**bearer(token["editor"]), "If-Match": '"1"'},
    )

    assert assert_problem(response, 422)["errors"][0]["loc"] == ["body", "related"]
    assert await row_counts(db) == before


# 404: ids that name nothing


def id_routes(article_id: str) -> list[tuple[str, str]]:
    path = f"/v1/admin/articles/{article_id}"
    return [
        ("GET", path),
        ("PATCH", path),
        ("DELETE", path),
        ("POST", f"{path}/submit"),
        ("POST", f"{path}/publish"),
        ("POST", f"{path}/unpublish"),
        ("GET", f"{path}/revisions"),
        ("GET", f"{path}/revisions/1"),
        ("POST", f"{path}/revisions/1/restore"),
        ("DELETE", f"/v1/admin/tokens/{article_id}"),
    ]


@pytest.mark.parametrize(
    "article_id", [UNKNOWN_ID, "not-a-uuid", "123", "%C2%B2", UNKNOWN_ID.upper() + "0"], ids=str
)
async def test_an_unknown_or_malformed_id_is_404_everywhere_and_writes_nothing(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    article: dict[str, Any],
    article_id: str,
) -> None:
    """Every route that takes an article or token id answers 404 for one it cannot find or parse."""
    before = await row_counts(db)
    headers = {**bearer(token["admin"]), "If-Match": "*"}

    for method, path in id_routes(article_id):
        json_body = {"lead": "x"} if method == "PATCH" else None
        response = await api.request(method, path, headers=headers, json=json_body)
        assert_problem(response, 404)

    assert await row_counts(db) == before


@pytest.mark.parametrize("version", ["0", "9", "abc", "-1", "1.0", "%C2%B2", "%D9%A3", "9999999999"])
async def test_a_revision_number_that_names_nothing_is_404(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    article: dict[str, Any],
    version: str,
) -> None:
    """A revision number that is absent, not a number, or out of range is a 404 to read or restore."""
    before = await row_counts(db)
    path = f"/v1/admin/articles/{article['id']}/revisions/{version}"
    headers = bearer(token["editor"])

    assert_problem(await api.get(path, headers=headers), 404)
    assert_problem(await api.post(f"{path}/restore", headers=headers), 404)
    assert await row_counts(db) == before


@pytest.mark.parametrize("if_match", [b'"\xb2"', b'"abc"', b'"99"', b"W/", b'"1" garbage'])
async def test_an_if_match_that_names_no_current_version_is_412(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    article: dict[str, Any],
    if_match: bytes,
) -> None:
    """An If-Match that is not the current version, Latin-1 bytes and garbage included, is a 412."""
    before = await row_counts(db)

    response = await api.patch(
        f"/v1/admin/articles/{article['id']}",
        json={"lead": "x"},
        # Bytes: "\xb2" must reach the server as the one Latin-1 byte it is ("²").
        headers=[(b"authorization", f"Bearer {token['editor']}".encode()), (b"if-match", if_match)],
    )

    assert_problem(response, 412)
    assert await row_counts(db) == before


# 422: paging parameters

LISTS = ["/v1/admin/articles", "/v1/content/articles", "/v1/admin/articles/{id}/revisions"]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "", "%C2%B2"])
async def test_a_limit_outside_1_to_100_is_422(
    api: httpx2.AsyncClient, token: dict[str, str], article: dict[str, Any], limit: str
) -> None:
    """On every list a limit outside 1 to 100, or not an integer, is a 422 on query.limit."""
    for path in LISTS:
        response = await api.get(
            path.format(id=article["id"]) + f"?limit={limit}", headers=bearer(token["author"])
        )
        assert ["query", "limit"] in [e["loc"] for e in assert_problem(response, 422)["errors"]], path


async def test_limits_1_and_100_are_accepted(
    api: httpx2.AsyncClient, token: dict[str, str], article: dict[str, Any]
) -> None:
    """Both ends of the limit range are accepted on every list."""
    for path in LISTS:
        for limit in (1, 100):
            response = await api.get(
                path.format(id=article["id"]), params={"limit": limit}, headers=bearer(token["author"])
            )
            assert response.status_code == 200, (path, limit)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%C2%B2",
        "eyJhIjoxfQ",  # {"a":1}
        "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzAxOjAwIiwiNmYxYzFhNWUtMDAwMC00MDAwLTgwMDAtMDAwMDAwMDAwMDAwIl0",
        "x" * 201,
    ],
    ids=["garbage", "superscript", "wrong-shape", "before-year-1-in-utc", "too-long"],
)
async def test_a_cursor_this_api_did_not_give_out_is_422(
    api: httpx2.AsyncClient, token: dict[str, str], article: dict[str, Any], cursor: str
) -> None:
    """A foreign, malformed, off-calendar or overlong cursor is a 422 on query.cursor on every list."""
    for path in LISTS:
        response = await api.get(
            path.format(id=article["id"]) + f"?cursor={cursor}", headers=bearer(token["author"])
        )
        assert ["query", "cursor"] in [e["loc"] for e in assert_problem(response, 422)["errors"]], path


@pytest.mark.parametrize("query", ["status=archived", "section=Welt", "tag=a%20b", "language=deutsch"])
async def test_a_filter_value_that_cannot_match_is_422(
    api: httpx2.AsyncClient, token: dict[str, str], query: str
) -> None:
    """A status, section, tag or language filter no article could match is a 422, not an empty list."""
    response = await api.get(f"/v1/admin/articles?{query}", headers=bearer(token["author"]))

    assert_problem(response, 422)


# one transaction: all or nothing


@pytest.fixture
async def conn(settings: SystemSettings) -> AsyncIterator[asyncpg.Connection[Record]]:
    """A connection set up as the application's are, for calling the service directly."""
    connection = await cms_db.connect(settings)
    yield connection
    await connection.close()


async def break_the_outbox(db: asyncpg.Connection[Record]) -> None:
    await db.execute(
        """
        CREATE FUNCTION outbox_refuses() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'outbox refuses rows'; END $$;
        CREATE TRIGGER outbox_refuses BEFORE INSERT ON outbox
            FOR EACH ROW EXECUTE FUNCTION outbox_refuses();
        """
    )


def editor_context() -> service.Context:
    actor = auth.Actor(name="eddie", role=Role.editor)
    return service.Context(actor=actor, now=datetime.now(UTC), correlation_id="test-rollback")


async def test_a_create_whose_outbox_row_fails_leaves_no_article_revision_or_event(
    db: asyncpg.Connection[Record], conn: asyncpg.Connection[Record]
) -> None:
    """If the outbox insert fails, the create rolls back whole: no article, revision or event remains."""
    await break_the_outbox(db)
    fields = ArticleCreate.model_validate(fixture("article-stabschefs.de.json"))

    with pytest.raises(asyncpg.RaiseError, match="outbox refuses rows"):
        await service.create(conn, fields, editor_context())

    assert await db.fetchval("SELECT count(*) FROM articles") == 0
    assert await db.fetchval("SELECT count(*) FROM article_revisions") == 0
    assert await db.fetchval("SELECT count(*) FROM outbox") == 0
    assert not conn.is_in_transaction()


async def test_an_update_whose_outbox_row_fails_leaves_the_article_as_it_was(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    conn: asyncpg.Connection[Record],
    article: dict[str, Any],
) -> None:
    """If the outbox insert fails, the update rolls back: text and version stay as they were."""
    await break_the_outbox(db)
    before = await row_counts(db)

    with pytest.raises(asyncpg.RaiseError):
        await service.update(
            conn, UUID(article["id"]), ArticleUpdate(lead="verloren"), article["version"], editor_context()
        )

    row = await db.fetchrow("SELECT lead, version FROM articles WHERE id = $1", article["id"])
    assert row is not None
    assert (row["lead"], row["version"]) == (article["lead"], 1)
    assert await row_counts(db) == before


async def test_a_failing_outbox_makes_the_api_answer_500_and_keeps_nothing(
    settings: SystemSettings, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """The API's side of the same rule: the client hears of the failure, nothing half-done stays."""
    await break_the_outbox(db)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            response = await client.post(
                "/v1/admin/articles", json={"title": "x", "language": "de"}, headers=bearer(token["author"])
            )

    problem = assert_problem(response, 500)
    assert "outbox" not in response.text  # reveals nothing of the cause
    assert problem["title"] == "Internal error"
    assert await row_counts(db) == {"articles": 0, "article_revisions": 0, "outbox": 0, "api_tokens": 4}
