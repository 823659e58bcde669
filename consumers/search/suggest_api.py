"""`GET /v1/search/suggest`: completions of the word being typed, for a search box.

Cheap by construction: the input is short, one prefix is looked up as a range of the
vocabulary's primary key (at most SCAN words), at most RANKED of them are checked against the
documents, and the answer is cached by shared caches like a search's.
"""

from __future__ import annotations

import re
from typing import Annotated

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from cms.platform.db import Connection
from consumers.runtime.http import Operation, Unavailable, json_response, parse_query
from consumers.runtime.spec import Store
from consumers.search import store, words
from consumers.search.document import config_for
from consumers.search.settings import SearchSettings

MAX_CHARS = 64
MIN_PREFIX = 2
SCAN = 500
RANKED = 20
# The word being typed: the letters at the very end of the input.
_LAST_WORD = re.compile(r"[^\W\d_]+\Z")


class SuggestQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    q: Annotated[str, Field(min_length=1, max_length=MAX_CHARS, description="what the reader has typed")]
    language: Annotated[str | None, Field(pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$", max_length=35)] = (
        None
    )
    limit: Annotated[int, Field(ge=1, le=10)] = 8


class Suggestions(BaseModel):
    items: list[str] = Field(description="the input with its last word completed, most frequent first")


async def suggestions(conn: Connection, query: SuggestQuery, settings: SearchSettings) -> list[str]:
    last = _LAST_WORD.search(query.q)
    if last is None or len(last[0]) < MIN_PREFIX:
        return []
    async with conn.transaction(readonly=True):
        await store.limit_statement_time(conn, settings.search_statement_timeout)
        config = config_for(query.language) if query.language else None
        try:
            completed = await words.completions(
                conn, last[0], config, scan=SCAN, ranked=RANKED, limit=query.limit
            )
        except asyncpg.QueryCanceledError:
            raise store.SearchTimedOut("suggestions took too long; try again shortly") from None
    head = query.q[: last.start()]
    return [head + word for word in completed]


def operation(index: Store, settings: SearchSettings) -> Operation:
    async def suggest(request: Request) -> Response:
        query = parse_query(request, SuggestQuery)
        if index.reads is None:
            raise Unavailable("the search index is not open yet")
        items = await index.reads.run(lambda conn: suggestions(conn, query, settings))
        return json_response(Suggestions(items=items), headers={"Cache-Control": "public, max-age=60"})

    return Operation(
        "GET",
        "/v1/search/suggest",
        suggest,
        "Complete the word a reader is typing into a search box",
        "search",
        query=SuggestQuery,
        response=Suggestions,
    )
