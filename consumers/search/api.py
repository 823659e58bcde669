"""`GET /v1/search`: web-search syntax over the index, ranked, with highlighted snippets."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.platform.db import Connection
from consumers.runtime.http import (
    UUID_PARAM,
    Cursor,
    Limit,
    NotFound,
    Operation,
    Role,
    Unavailable,
    decode_offset,
    encode_offset,
    json_response,
    parse_query,
    path_uuid,
    require_role,
)
from consumers.runtime.spec import Store
from consumers.search import query as search_query
from consumers.search import store
from consumers.search.document import config_for
from consumers.search.query import MAX_QUERY_CHARS, MAX_WORDS
from consumers.search.settings import SearchSettings
from consumers.search.store import Indexed, SearchHit

MAX_OFFSET = 10_000


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    q: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_QUERY_CHARS,
            description=f'web syntax: "a phrase", -not, or; at most {MAX_WORDS} words',
        ),
        AfterValidator(search_query.check_words),
    ]
    language: Annotated[str | None, Field(pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$", max_length=35)] = (
        None
    )
    section: Annotated[str | None, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120)] = None
    tag: Annotated[str | None, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120)] = None
    limit: Limit = 20
    cursor: Cursor | None = None


class SearchPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None


class IndexChoice:
    """Whether this process's searches read the RUM index: the setting, and whether the store
    has the index, looked up on the first search (migrations run before the store opens)."""

    def __init__(self, settings: SearchSettings) -> None:
        self._rum: bool | None = None if settings.search_rum else False

    async def rum(self, conn: Connection) -> bool:
        if self._rum is None:
            self._rum = await store.has_rum_index(conn)
        return self._rum


async def find(
    conn: Connection, query: SearchQuery, offset: int, settings: SearchSettings, index: IndexChoice
) -> list[SearchHit]:
    """The hits of one search, in one transaction, so that public search's short statement
    timeout ends with it."""
    try:
        return await _find_in_transaction(conn, query, offset, settings, index)
    except asyncpg.InterfaceError as exc:
        # A statement cut by the timeout can leave the connection closed, so that leaving the
        # transaction fails too: that is still this search timing out, not the database going away.
        if isinstance(exc.__context__, store.SearchTimedOut):
            raise exc.__context__ from None
        raise


async def _find_in_transaction(
    conn: Connection, query: SearchQuery, offset: int, settings: SearchSettings, index: IndexChoice
) -> list[SearchHit]:
    rum = await index.rum(conn)
    async with conn.transaction(readonly=True):
        await store.limit_statement_time(conn, settings.search_statement_timeout)
        config = config_for(query.language) if query.language else None
        plan = search_query.plan(await store.forms(conn, query.q, config))
        if plan is None or offset >= settings.search_max_candidates:
            return []
        return await store.search(
            conn,
            plan,
            language=query.language,
            section=query.section,
            tag=query.tag,
            candidates=settings.search_max_candidates,
            limit=query.limit,
            offset=offset,
            rum=rum,
            windows=settings.search_recent_windows,
        )


def operations(index: Store, settings: SearchSettings) -> list[Operation]:
    choice = IndexChoice(settings)

    async def search(request: Request) -> Response:
        query = parse_query(request, SearchQuery)
        offset = decode_offset(query.cursor, MAX_OFFSET)
        if index.reads is None:
            raise Unavailable("the search index is not open yet")
        hits = await index.reads.run(lambda conn: find(conn, query, offset, settings, choice))
        end = offset + query.limit
        more = len(hits) == query.limit and end <= MAX_OFFSET and end < settings.search_max_candidates
        page = SearchPage(items=hits, next_cursor=encode_offset(end) if more else None)
        return json_response(page, headers={"Cache-Control": "public, max-age=30"})

    async def indexed(request: Request) -> Response:
        await require_role(request, Role.editor)
        article_id = path_uuid(request)
        if index.pool is None:
            raise Unavailable("the search index is not open yet")
        async with index.pool.acquire() as conn:
            found = await store.indexed(conn, article_id)
        if found is None:
            raise NotFound(f"article {article_id} is not in the index")
        return json_response(found, headers={"Cache-Control": "private, no-store"})

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
        Operation(
            "GET",
            "/v1/search/articles/{id}",
            indexed,
            "Which version of an article the index holds (404: none)",
            "search",
            auth=Role.editor,
            path_params={"id": UUID_PARAM},
            response=Indexed,
        ),
    ]
