"""Admin API for articles: HTTP in, service call, HTTP out. No SQL here."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.articles import editing, locks, queries, revisions, service, takedowns
from cms.articles.locks import AdminArticle
from cms.articles.model import (
    ArticleCreate,
    ArticleUpdate,
    Byline,
    CorrectionRequest,
    KillRequest,
    Language,
    PublishRequest,
    RestoreKilledRequest,
    Slug,
    UnpublishRequest,
)
from cms.events.contract import Article, Status
from cms.platform import auth, deps, pagination, web
from cms.platform.db import Connection
from cms.platform.errors import NotFound
from cms.platform.openapi import UUID_PARAM, VERSION_PARAM, Header, Operation
from cms.platform.pagination import Page, PageQuery
from cms.platform.tokens import Role

_IF_MATCH = Header("If-Match", 'the ETag of the version you edited, e.g. "3"; required')
_IF_MATCH_OPTIONAL = Header("If-Match", "when sent, the action applies only to that version")


class AdminListQuery(PageQuery):
    status: Status | None = None
    section: Slug | None = None
    tag: Slug | None = None
    language: Language | None = None
    author: Byline | None = Field(default=None, description="articles with this byline")
    # At least 3 characters: the trigram index needs one whole trigram to narrow the rows.
    q: str | None = Field(
        default=None,
        min_length=3,
        max_length=100,
        description="a piece of the title, lead or slug (any status, case ignored), 3-100 characters",
    )
    sort: Literal["updated", "oldest", "title"] = Field(
        default="updated", description="updated: newest change first; oldest: oldest change first; title: A-Z"
    )


class RevisionPage(BaseModel):
    items: list[revisions.RevisionInfo]
    next_cursor: str | None


class TakedownRecord(BaseModel):
    items: list[takedowns.Takedown]


class RevisionsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: pagination.Limit = 20
    cursor: pagination.Cursor | None = None


async def _context(conn: Connection, request: Request, role: Role) -> service.Context:
    actor = await auth.authenticate(conn, request, role)
    return request_context(request, actor)


def request_context(request: Request, actor: auth.Actor) -> service.Context:
    return service.Context(actor=actor, now=datetime.now(UTC), correlation_id=deps.request_id(request))


async def _caller(request: Request, role: Role) -> auth.Actor:
    """Authenticate on a connection that goes back to the pool at once: a handler that reads a
    body next must not hold one while a slow client is still sending it."""
    async with deps.pool(request).acquire() as conn:
        return await auth.authenticate(conn, request, role)


async def _body(request: Request, model: type[web.M], *, optional: bool = False) -> web.M:
    return await web.read_json(request, model, limit=deps.settings(request).max_body_bytes, optional=optional)


def _article(article: Article, status: int = 200) -> Response:
    headers = {"ETag": web.etag(article.version)}
    if status == 201:
        headers["Location"] = f"/v1/admin/articles/{article.id}"
    return web.json_response(article, status, headers)


def _if_match_optional(request: Request) -> int | None:
    return web.required_if_match(request) if "if-match" in request.headers else None


# Every handler authenticates before it reads the path, query or body: a caller without a
# valid token learns nothing, not even whether an id is well formed.


async def create_article(request: Request) -> Response:
    actor = await _caller(request, Role.author)
    fields = await _body(request, ArticleCreate)
    async with deps.pool(request).acquire() as conn:
        article = await service.create(conn, fields, request_context(request, actor))
    return _article(article, 201)


async def list_articles(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        ctx = await _context(conn, request, Role.author)
        query = web.parse_query(request, AdminListQuery)
        items = await queries.admin_page(
            conn,
            status=query.status,
            section=query.section,
            tag=query.tag,
            language=query.language,
            author=query.author,
            text=query.q,
            sort=query.sort,
            after=pagination.decode(query.cursor),
            limit=query.limit,
        )
        # Who is editing what, for the list's "editing" column: one query for the page.
        held = await locks.live_for(conn, [item.id for item in items], ctx.now)
    last = items[-1] if len(items) == query.limit else None
    cursor = pagination.encode(last.updated_at, last.id) if last else None
    shown = [AdminArticle.model_validate({**dict(item), "lock": held.get(item.id)}) for item in items]
    return web.json_response(Page[AdminArticle](items=shown, next_cursor=cursor))


async def get_article(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        ctx = await _context(conn, request, Role.author)
        article_id = web.path_uuid(request)
        article = await editing.get_with_lock(conn, article_id, ctx)
    return _article(article)


async def update_article(request: Request) -> Response:
    actor = await _caller(request, Role.author)
    article_id = web.path_uuid(request)
    if_match = web.required_if_match(request)
    changes = await _body(request, ArticleUpdate)
    async with deps.pool(request).acquire() as conn:
        article = await service.update(conn, article_id, changes, if_match, request_context(request, actor))
    return _article(article)


async def delete_article(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        ctx = await _context(conn, request, Role.editor)
        article_id = web.path_uuid(request)
        if_match = web.required_if_match(request)
        await service.delete(conn, article_id, if_match, ctx)
    return Response(status_code=204)


async def submit_article(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        ctx = await _context(conn, request, Role.author)
        article_id = web.path_uuid(request)
        article = await service.submit(conn, article_id, _if_match_optional(request), ctx)
    return _article(article)


# An action on one article with a body: authenticate, read the body without holding a pooled
# connection, then take one for the action's transaction.
Action = Callable[[Connection, uuid.UUID, web.M, int | None, service.Context], Awaitable[Article]]


async def _act(
    request: Request, role: Role, model: type[web.M], action: Action[web.M], *, optional: bool = False
) -> Response:
    actor = await _caller(request, role)
    article_id = web.path_uuid(request)
    body = await _body(request, model, optional=optional)
    async with deps.pool(request).acquire() as conn:
        ctx = request_context(request, actor)
        article = await action(conn, article_id, body, _if_match_optional(request), ctx)
    return _article(article)


async def publish_article(request: Request) -> Response:
    return await _act(
        request,
        Role.editor,
        PublishRequest,
        lambda conn, article_id, body, if_match, ctx: service.publish(
            conn, article_id, body.publish_at, if_match, ctx
        ),
        optional=True,
    )


async def unpublish_article(request: Request) -> Response:
    return await _act(
        request,
        Role.editor,
        UnpublishRequest,
        lambda conn, article_id, body, if_match, ctx: service.unpublish(
            conn, article_id, body.unpublish_at, if_match, ctx
        ),
        optional=True,
    )


async def correct_article(request: Request) -> Response:
    return await _act(
        request,
        Role.editor,
        CorrectionRequest,
        lambda conn, article_id, body, if_match, ctx: service.correct(
            conn, article_id, body.note, if_match, ctx
        ),
    )


async def kill_article(request: Request) -> Response:
    return await _act(
        request,
        Role.editor,
        KillRequest,
        lambda conn, article_id, body, if_match, ctx: service.kill(
            conn, article_id, body.reason, if_match, ctx
        ),
    )


async def restore_killed_article(request: Request) -> Response:
    return await _act(
        request,
        Role.admin,
        RestoreKilledRequest,
        lambda conn, article_id, body, if_match, ctx: service.restore_killed(
            conn, article_id, body.reason, if_match, ctx
        ),
    )


async def list_takedowns(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        await _context(conn, request, Role.editor)
        article_id = web.path_uuid(request)
        items = await service.takedown_record(conn, article_id)
    return web.json_response(TakedownRecord(items=items))


async def list_revisions(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        await _context(conn, request, Role.author)
        article_id = web.path_uuid(request)
        query = web.parse_query(request, RevisionsQuery)
        before = _version_cursor(query.cursor)
        await service.get(conn, article_id)
        items = await revisions.page(conn, article_id, before=before, limit=query.limit)
    cursor = str(items[-1].version) if len(items) == query.limit else None
    return web.json_response(RevisionPage(items=items, next_cursor=cursor))


async def get_revision(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        await _context(conn, request, Role.author)
        article_id = web.path_uuid(request)
        version = path_version(request)
        await service.get(conn, article_id)  # a deleted article's history is gone with it
        revision = await revisions.get(conn, article_id, version)
    if revision is None:
        raise NotFound(f"article {article_id} has no version {version}")
    return web.json_response(revision, headers={"ETag": web.etag(version)})


async def restore_revision(request: Request) -> Response:
    async with deps.pool(request).acquire() as conn:
        ctx = await _context(conn, request, Role.editor)
        article_id = web.path_uuid(request)
        version = path_version(request)
        article = await service.restore(conn, article_id, version, _if_match_optional(request), ctx)
    return _article(article)


def path_version(request: Request, name: str = "version") -> int:
    text = request.path_params[name]
    version = web.whole_number(text)
    if version is None or version < 1:
        raise NotFound(f"no version {text!r}: versions are whole numbers from 1")
    return version


def _version_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 2**31 - 1
    version = web.whole_number(cursor)
    if version is None:
        raise pagination.invalid_cursor()
    return version


_ID = {"id": UUID_PARAM}
_ID_VERSION = {"id": UUID_PARAM, "version": VERSION_PARAM}

OPERATIONS = [
    Operation(
        "POST",
        "/v1/admin/articles",
        create_article,
        "Create a draft",
        "articles",
        auth=Role.author,
        body=ArticleCreate,
        response=Article,
        status=201,
        problems=(409,),
    ),
    Operation(
        "GET",
        "/v1/admin/articles",
        list_articles,
        "List articles of every status",
        "articles",
        auth=Role.author,
        query=AdminListQuery,
        response=Page[AdminArticle],
    ),
    Operation(
        "GET",
        "/v1/admin/articles/{id}",
        get_article,
        "Get one article",
        "articles",
        auth=Role.author,
        path_params=_ID,
        response=AdminArticle,
    ),
    Operation(
        "PATCH",
        "/v1/admin/articles/{id}",
        update_article,
        "Change some fields",
        "articles",
        auth=Role.author,
        path_params=_ID,
        body=ArticleUpdate,
        response=Article,
        headers=(_IF_MATCH,),
        problems=(409, 412, 428),
    ),
    Operation(
        "DELETE",
        "/v1/admin/articles/{id}",
        delete_article,
        "Delete (soft)",
        "articles",
        auth=Role.editor,
        path_params=_ID,
        headers=(_IF_MATCH,),
        status=204,
        problems=(412, 428),
    ),
    Operation(
        "POST",
        "/v1/admin/articles/{id}/submit",
        submit_article,
        "Submit for review",
        "workflow",
        auth=Role.author,
        path_params=_ID,
        response=Article,
        headers=(_IF_MATCH_OPTIONAL,),
        problems=(409, 412),
    ),
    Operation(
        "POST",
        "/v1/admin/articles/{id}/publish",
        publish_article,
        "Publish now or schedule",
        "workflow",
        auth=Role.editor,
        path_params=_ID,
        body=PublishRequest,
        body_optional=True,
        response=Article,
        headers=(_IF_MATCH_OPTIONAL,),
        problems=(409, 412),
    ),
    Operation(
        "POST",
        "/v1/admin/articles/{id}/unpublish",
        unpublish_article,
        "Unpublish now or later",
        "workflow",
        auth=Role.editor,
        path_params=_ID,
        body=UnpublishRequest,
        body_optional=True,
        response=Article,
        headers=(_IF_MATCH_OPTIONAL,),
        problems=(409, 412),
    ),
    Operation(
        "POST",
        "/v1/admin/articles/{id}/corrections",
        correct_article,
        "Add a correction note to a published article",
        "workflow",
        auth=Role.editor,
        path_params=_ID,
        body=CorrectionRequest,
        response=Article,
        headers=(_IF_MATCH_OPTIONAL,),
        problems=(409, 412),
    ),
    Operation(
        "POST",
        "/v1/admin/articles/{id}/kill",
        kill_article,
        "Kill (legal takedown): off every channel until an admin restores it",
        "workflow",
        auth=Role.editor,
        path_params=_ID,
        body=KillRequest,
        response=Article,
        headers=(_IF_MATCH_OPTIONAL,),
        problems=(409, 412),
    ),
    Operation(
        "POST",
        "/v1/admin/articles/{id}/restore-killed",
        restore_killed_article,
        "Lift a takedown: the article becomes unpublished, for an editor to publish again",
        "workflow",
        auth=Role.admin,
        path_params=_ID,
        body=RestoreKilledRequest,
        response=Article,
        headers=(_IF_MATCH_OPTIONAL,),
        problems=(409, 412),
    ),
    Operation(
        "GET",
        "/v1/admin/articles/{id}/takedowns",
        list_takedowns,
        "Kills and restores of the article, with who and why, oldest first",
        "workflow",
        auth=Role.editor,
        path_params=_ID,
        response=TakedownRecord,
    ),
    Operation(
        "GET",
        "/v1/admin/articles/{id}/revisions",
        list_revisions,
        "List revisions, newest first",
        "revisions",
        auth=Role.author,
        path_params=_ID,
        query=RevisionsQuery,
        response=RevisionPage,
    ),
    Operation(
        "GET",
        "/v1/admin/articles/{id}/revisions/{version}",
        get_revision,
        "Get one revision",
        "revisions",
        auth=Role.author,
        path_params=_ID_VERSION,
        response=revisions.Revision,
    ),
    Operation(
        "POST",
        "/v1/admin/articles/{id}/revisions/{version}/restore",
        restore_revision,
        "Restore a revision as a new version",
        "revisions",
        auth=Role.editor,
        path_params=_ID_VERSION,
        response=Article,
        headers=(_IF_MATCH_OPTIONAL,),
        problems=(409, 412),
    ),
]
