"""Make the index match the article as of the event's version."""

from __future__ import annotations

import structlog

from cms.events.contract import ArticleEvent, is_live
from cms.platform.db import Connection
from consumers.search import store
from consumers.search.document import document_of

log = structlog.get_logger(__name__)


async def apply(conn: Connection, event: ArticleEvent) -> None:
    if is_live(event.data):
        document = document_of(event.data)
        if await store.upsert(conn, document):
            # Not an error (the index holds the live text, as much as a tsvector takes), but
            # the end of this article cannot be found: worth a look if it happens often.
            log.warning("search.body_truncated", body_chars=len(document.body))
    else:
        await store.remove(conn, event.data.id)
