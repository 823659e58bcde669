"""Preview links over HTTP: editors make, list and revoke them; `GET /v1/preview/{token}` is
public (the token is the credential) and answers the delivery shape, kept out of every cache."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from starlette.requests import Request
from starlette.responses import Response

from cms.articles import previews, service
from cms.articles.content_api import LiveArticle, RelatedLink
from cms.articles.preview_store import PreviewInfo
from cms.articles.previews import CreatedPreview, Limits, PreviewCreate
from cms.events.contract import Status
from cms.platform import auth, deps, pagination, web
from cms.platform.errors import NotFound
from cms.platform.openapi import UUID_PARAM, Operation
from cms.platform.pagination import Page, PageQuery
from cms.platform.tokens import Role
from cms.settings import Settings

# Nothing between the reader and us may keep a copy, a search engine may not list it, and the
# link (its token) may not leak to the sites a previewed article links to.
PRIVATE = {
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


class PreviewArticle(LiveArticle):
    """The delivery shape of an article that need not be live: it may never have been published."""

    status: Status
    published_at: datetime | None  # type: ignore[assignment]  # a draft was never published
    first_published_at: datetime | None  # type: ignore[assignment]


class PreviewGone(NotFound):
    """One answer for a link that is malformed, unknown, revoked or expired: no oracle."""

    type_slug = "preview-not-found"
    headers: ClassVar[dict[str, str] | None] = PRIVATE

    def __init__(self) -> None:
        super().__init__("this preview link does not exist or no longer works")


async def _caller(request: Request, role: Role) -> auth.Actor:
    """Authenticated on a connection that goes back to the pool before the body is read."""
    async with deps.pool(request).acquire() as conn:
        return await auth.authenticate(conn, request, role)


def _context_of(request: Request, actor: auth.Actor) -> service.Context:
    return service.Context(actor=actor, now=datetime.now(UTC), correlation_id=deps.request_id(request))


def _limits(request: Request) -> Limits:
    settings = deps.settings(request)
    if not isinstance(settings, Settings):
        raise TypeError(f"the application was built with {type(settings).__name__}, not the content Settings")
    return Limits(settings.preview_default_ttl, settings.preview_max_ttl)


async def create_preview(request: Request) -> Response:
    actor = await _caller(request, Role.author)
    article_id = web.path_uuid(request)
    body = await web.read_json(
        request, PreviewCreate, limit=deps.settings(request).max_body_bytes, optional=True
    )
    async with deps.pool(request).acquire() as conn:
        created = await previews.create(conn, article_id, body, _context_of(request, actor), _limits(request))
    return web.json_response(created, 201, {"Location": created.url, "Cache-Control": "no-store"})


async def list_previews(request: Request) -> Response:
    actor = await _caller(request, Role.author)
    article_id = web.path_uuid(request)
    query = web.parse_query(request, PageQuery)
    after = pagination.decode(query.cursor)
    async with deps.pool(request).acquire() as conn:
        items = await previews.page(conn, article_id, actor, after=after, limit=query.limit)
    last = items[-1] if len(items) == query.limit else None
    cursor = pagination.encode(last.created_at, last.id) if last else None
    return web.json_response(Page[PreviewInfo](items=items, next_cursor=cursor))


async def revoke_preview(request: Request) -> Response:
    actor = await _caller(request, Role.author)
    article_id = web.path_uuid(request)
    preview_id = web.path_uuid(request, "preview_id")
    async with deps.pool(request).acquire() as conn:
        revoked = await previews.revoke(conn, article_id, preview_id, actor)
    if revoked is None:
        raise NotFound(f"article {article_id} has no preview link {preview_id}")
    return Response(status_code=204)


async def show_preview(request: Request) -> Response:
    token: str = request.path_params["token"]
    async with deps.pool(request).acquire() as conn:
        shown = await previews.show(conn, token)
    if shown is None:
        raise PreviewGone()
    article = shown.article
    answer = PreviewArticle(
        **article.model_dump(include=set(PreviewArticle.model_fields) - {"related"}),
        related=[RelatedLink.model_validate(link) for link in shown.related],
    )
    # No ETag and no surrogate keys: either would invite a cache to keep what must not be kept.
    return web.json_response(answer, headers={**PRIVATE, "Content-Language": article.language})


_ARTICLE = {"id": UUID_PARAM}

OPERATIONS = [
    Operation(
        "GET",
        "/v1/preview/{token}",
        show_preview,
        "An article as a preview link shows it (the token is the credential)",
        "previews",
        path_params={"token": {"type": "string", "maxLength": 100}},
        response=PreviewArticle,
        problems=(404,),
    ),
    Operation(
        "POST",
        "/v1/admin/articles/{id}/previews",
        create_preview,
        "Make a preview link (its token is shown once)",
        "previews",
        auth=Role.author,
        path_params=_ARTICLE,
        body=PreviewCreate,
        body_optional=True,
        response=CreatedPreview,
        status=201,
        problems=(409,),
    ),
    Operation(
        "GET",
        "/v1/admin/articles/{id}/previews",
        list_previews,
        "List an article's preview links (never their tokens), newest first",
        "previews",
        auth=Role.author,
        path_params=_ARTICLE,
        query=PageQuery,
        response=Page[PreviewInfo],
    ),
    Operation(
        "DELETE",
        "/v1/admin/articles/{id}/previews/{preview_id}",
        revoke_preview,
        "Revoke a preview link",
        "previews",
        auth=Role.author,
        path_params={"id": UUID_PARAM, "preview_id": UUID_PARAM},
        status=204,
    ),
]
