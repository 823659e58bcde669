"""`GET /v1/search`: web-search syntax over the index, ranked, with highlighted snippets."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from consumers.runtime.http import Limit, Operation, Unavailable, invalid_cursor, json_response, parse_query
from consumers.runtime.spec import Store
from consumers.search import store
from consumers.search.document import config_for
from consumers.search.store import SearchHit

MAX_OFFSET = 10_000


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    q: Annotated[str, Field(min_length=1, max_length=500, description='web syntax: "a phrase", -not, or')]
    language: Annotated[str | None, Field(pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$", max_length=35)] = (
        None
    )
    section: Annotated[str | None, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120)] = None
    tag: Annotated[str | None, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120)] = None
    limit: Limit = 20
    cursor: Annotated[str | None, Field(max_length=40)] = None


class SearchPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_cursor() from None
    if not text.startswith("o:") or not text[2:].isascii() or not text[2:].isdigit():
        raise invalid_cursor()
    offset = int(text[2:])
    if offset > MAX_OFFSET:
        raise invalid_cursor()
    return offset


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def operations(index: Store) -> list[Operation]:
    async def search(request: Request) -> Response:
        query = parse_query(request, SearchQuery)
        offset = _offset(query.cursor)
        if index.reads is None:
            raise Unavailable("the search index is not open yet")
        hits = await index.reads.run(
            lambda conn: store.search(
                conn,
                q=query.q,
                language=query.language,
                config=config_for(query.language or ""),
                section=query.section,
                tag=query.tag,
                limit=query.limit,
                offset=offset,
            )
        )
        more = len(hits) == query.limit and offset + query.limit <= MAX_OFFSET
        page = SearchPage(
            items=hits,
            next_cursor=_cursor(offset + query.limit) if more else None,
        )
        return json_response(page, headers={"Cache-Control": "public, max-age=30"})

    return [
        Operation(
            "GET",
            "/v1/search",
            search,
            "Search published articles",
            "search",
            query=SearchQuery,
            response=SearchPage,
        ),
    ]
