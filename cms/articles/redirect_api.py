"""Delivery: old URLs (an imported site's permalinks) answer 301 to where the article lives now.

A front end that receives a request for a path it does not know asks
`GET /v1/content/redirects?path=/2019/05/some-story/` and passes the 301 on (the `Location`
header, also in the JSON body). Only a live article is a target: an unpublished, killed or
deleted one is a 404, as its own page is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.articles import redirects
from cms.feeds.links import article_url
from cms.platform import cache_keys, deps, web
from cms.platform.errors import NotFound
from cms.platform.openapi import Operation
from cms.settings import Settings


class RedirectQuery(BaseModel):
    path: Annotated[str, Field(min_length=1, max_length=redirects.MAX_PATH)] = Field(
        description="the old URL or its path, e.g. /2019/05/some-story/ or /?p=123"
    )


class RedirectTarget(BaseModel):
    location: str = Field(description="where the article lives now (also the Location header)")
    id: str
    slug: str
    language: str


async def redirect(request: Request) -> Response:
    query = web.parse_query(request, RedirectQuery)
    path = redirects.normal_path(query.path)
    if path is None:
        raise NotFound(f"no redirect for {query.path[:200]!r}")
    found = await deps.reads(request).run(lambda conn: redirects.target(conn, path))
    if found is None or not _live(found):
        raise NotFound(f"no redirect for {path!r}")
    settings = deps.settings(request)
    assert isinstance(settings, Settings)
    location = article_url(
        settings.public_url,
        settings.article_url_pattern,
        section=found["section"],
        slug=found["slug"],
        article_id=found["id"],
        language=found["language"],
    )
    body = {
        "location": location,
        "id": str(found["id"]),
        "slug": found["slug"],
        "language": found["language"],
    }
    headers = {
        "Location": location,
        **web.cache_control(
            settings.delivery_max_age,
            s_maxage=settings.delivery_s_maxage,
            stale_while_revalidate=settings.delivery_stale_while_revalidate,
            stale_if_error=settings.delivery_stale_if_error,
        ),
        # A slug change or an unpublish moves or ends the redirect: purged with the article.
        **cache_keys.headers([cache_keys.article(found["id"])]),
    }
    return Response(orjson.dumps(body), status_code=301, media_type=web.JSON, headers=headers)


def _live(found: dict[str, object]) -> bool:
    until = found["unpublish_at"]
    return (
        found["status"] == "published"
        and found["deleted_at"] is None
        and (until is None or (isinstance(until, datetime) and until > datetime.now(UTC)))
    )


OPERATIONS = [
    Operation(
        "GET",
        "/v1/content/redirects",
        redirect,
        "Where an old URL (an imported permalink) lives now: 301 with Location",
        "delivery",
        query=RedirectQuery,
        response=RedirectTarget,
        status=301,
        problems=(404,),
    ),
]
