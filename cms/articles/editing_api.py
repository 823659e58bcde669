"""Admin API for work that is never lost: autosaved copies, edit locks and revision diffs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cms.articles import diff, editing, revisions, service
from cms.articles.admin_api import path_version, request_context
from cms.articles.drafts import DraftCopy, DraftCopyRequest
from cms.articles.locks import EditLock, LockRequest
from cms.platform import auth, deps, web
from cms.platform.errors import NotFound
from cms.platform.openapi import UUID_PARAM, VERSION_PARAM, Operation
from cms.platform.tokens import Role
from cms.settings import Settings


async def _caller(request: Request, role: Role) -> auth.Actor:
    async with deps.pool(request).acquire() as conn:
        return await auth.authenticate(conn, request, role)


async def _body(request: Request, model: type[web.M], *, optional: bool = False) -> web.M:
    return await web.read_json(request, model, limit=deps.settings(request).max_body_bytes, optional=optional)


def _copy(copy: DraftCopy) -> Response:
    # Only the fields the copy holds: "section": null (clear it) differs from no section at all.
    return web.json_response(copy.model_dump(mode="json", exclude_unset=True))


def _settings(request: Request) -> Settings:
    found = deps.settings(request)
    if not isinstance(found, Settings):
        raise TypeError(f"the application was built with {type(found).__name__}, not the content Settings")
    return found


# As in admin_api: authenticate first, then read the path, query or body.


async def put_draft_copy(request: Request) -> Response:
    actor = await _caller(request, Role.author)
    article_id = web.path_uuid(request)
    body = await _body(request, DraftCopyRequest)
    async with deps.pool(request).acquire() as conn:
        copy = await editing.save_copy(conn, article_id, body, request_context(request, actor))
    return _copy(copy)


async def get_draft_copy(request: Request) -> Response:
    actor = await _caller(request, Role.author)
    article_id = web.path_uuid(request)
    async with deps.pool(request).acquire() as conn:
        copy = await editing.get_copy(conn, article_id, request_context(request, actor))
    return _copy(copy)


async def delete_draft_copy(request: Request) -> Response:
    actor = await _caller(request, Role.author)
    article_id = web.path_uuid(request)
    async with deps.pool(request).acquire() as conn:
        await editing.discard_copy(conn, article_id, request_context(request, actor))
    return Response(status_code=204)


async def acquire_lock(request: Request) -> Response:
    actor = await _caller(request, Role.author)
    article_id = web.path_uuid(request)
    body = await _body(request, LockRequest, optional=True)
    lease = _settings(request).edit_lock_lease
    async with deps.pool(request).acquire() as conn:
        ctx = request_context(request, actor)
        lock = await editing.acquire_lock(conn, article_id, lease, ctx, take_over=body.take_over)
    return web.json_response(lock)


async def release_lock(request: Request) -> Response:
    actor = await _caller(request, Role.author)
    article_id = web.path_uuid(request)
    async with deps.pool(request).acquire() as conn:
        await editing.release_lock(conn, article_id, request_context(request, actor))
    return Response(status_code=204)


async def diff_revisions(request: Request) -> Response:
    await _caller(request, Role.author)  # every author may read every article's history
    article_id = web.path_uuid(request)
    older, newer = path_version(request, "a"), path_version(request, "b")
    async with (
        deps.pool(request).acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        await service.get(conn, article_id)  # a deleted article's history is gone with it
        old = await revisions.get(conn, article_id, older)
        new = await revisions.get(conn, article_id, newer)
    if old is None:
        raise NotFound(f"article {article_id} has no version {older}")
    if new is None:
        raise NotFound(f"article {article_id} has no version {newer}")
    # The connection is back in the pool before the (maybe long) comparison starts.
    return web.json_response(await diff.compare_off_loop(old.article, new.article))


_ID = {"id": UUID_PARAM}

OPERATIONS = [
    Operation(
        "PUT",
        "/v1/admin/articles/{id}/draft-copy",
        put_draft_copy,
        "Autosave your working copy (no new version, no event)",
        "drafts",
        auth=Role.author,
        path_params=_ID,
        body=DraftCopyRequest,
        response=DraftCopy,
    ),
    Operation(
        "GET",
        "/v1/admin/articles/{id}/draft-copy",
        get_draft_copy,
        "Your working copy, the version it was based on and whether that is still current",
        "drafts",
        auth=Role.author,
        path_params=_ID,
        response=DraftCopy,
    ),
    Operation(
        "DELETE",
        "/v1/admin/articles/{id}/draft-copy",
        delete_draft_copy,
        "Discard your working copy",
        "drafts",
        auth=Role.author,
        path_params=_ID,
        status=204,
    ),
    Operation(
        "POST",
        "/v1/admin/articles/{id}/lock",
        acquire_lock,
        "Acquire, renew or take over the edit lock",
        "drafts",
        auth=Role.author,
        path_params=_ID,
        body=LockRequest,
        body_optional=True,
        response=EditLock,
        problems=(409,),
    ),
    Operation(
        "DELETE",
        "/v1/admin/articles/{id}/lock",
        release_lock,
        "Release the edit lock (its holder, or an editor)",
        "drafts",
        auth=Role.author,
        path_params=_ID,
        status=204,
    ),
    Operation(
        "GET",
        "/v1/admin/articles/{id}/revisions/{a}/diff/{b}",
        diff_revisions,
        "What changed from version a to version b: fields, blocks, words",
        "revisions",
        auth=Role.author,
        path_params={"id": UUID_PARAM, "a": VERSION_PARAM, "b": VERSION_PARAM},
        response=diff.RevisionDiff,
    ),
]
