"""`GET /v1/search`: web-search syntax over the index, ranked, with highlighted snippets."""

from __future__ import annotations

import hashlib
from typing import Annotated

import asyncpg
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.platform import cache_keys, web
from cms.platform.db import Connection
from cms.platform.openapi import Header
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
from consumers.search import matching, store, suggest_api
from consumers.search import query as search_query
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
    did_you_mean: str | None = Field(
        default=None, description="when nothing matched: the query with unknown words replaced by known ones"
    )


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
        spellings = await matching.spellings(conn, query.q, config, settings.search_variants_per_word)
        plan = search_query.plan(await store.forms(conn, query.q, config, spellings))
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


async def _did_you_mean(conn: Connection, query: SearchQuery, settings: SearchSettings) -> str | None:
    async with conn.transaction(readonly=True):
        await store.limit_statement_time(conn, settings.search_statement_timeout)
        config = config_for(query.language) if query.language else None
        try:
            return await matching.did_you_mean(conn, query.q, config, settings.search_did_you_mean_similarity)
        except asyncpg.QueryCanceledError:
            return None  # a correction is a courtesy: no answer rather than none at all


def _cacheable(request: Request, page: SearchPage, query: SearchQuery, settings: SearchSettings) -> Response:
    """A search answer a shared cache may keep: named by the lists it searched (a change that
    enters or leaves them purges it) and the articles it shows, with an ETag and 304."""
    body = page.model_dump_json().encode()
    tag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {
        "ETag": tag,
        **web.cache_control(
            settings.search_max_age,
            s_maxage=settings.search_s_maxage,
            stale_if_error=settings.search_stale_if_error,
        ),
        **cache_keys.headers(
            cache_keys.lists(section=query.section, tag=query.tag, language=query.language),
            (cache_keys.article(hit.id) for hit in page.items),
        ),
    }
    if web.none_match(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=web.JSON, headers=headers)


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
        other = None
        if not hits and offset == 0:
            other = await index.reads.run(lambda conn: _did_you_mean(conn, query, settings))
        page = SearchPage(items=hits, next_cursor=encode_offset(end) if more else None, did_you_mean=other)
        return _cacheable(request, page, query, settings)

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
            headers=(Header("If-None-Match", "an ETag from an earlier answer: 304 if unchanged"),),
            extra_responses={304: "Not modified"},
        ),
        suggest_api.operation(index, settings),
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
