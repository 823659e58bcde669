"""Make the index match the article as of the event's version."""

from __future__ import annotations

import structlog

from cms.events.contract import ArticleEvent, is_live
from cms.platform.db import Connection
from consumers.runtime.offload import Offload
from consumers.search import store, words
from consumers.search.additions import additions_of
from consumers.search.compounds import Splitter
from consumers.search.document import document_of

log = structlog.get_logger(__name__)


class Indexer:
    """Indexes live articles with what readers may type besides their text (compound parts,
    other spellings: computed off the event loop), and removes the others."""

    def __init__(self, splitter: Splitter, offload: Offload | None = None) -> None:
        self.splitter = splitter
        self.offload = offload or Offload("search", workers=1)

    async def apply(self, conn: Connection, event: ArticleEvent) -> None:
        if not is_live(event.data):
            await store.remove(conn, event.data.id)
            return
        document = document_of(event.data)
        added = await self.offload.run(additions_of, document, self.splitter)
        if await store.upsert(conn, document, added.extra):
            # Not an error (the index holds the live text, as much as a tsvector takes), but
            # the end of this article cannot be found: worth a look if it happens often.
            log.warning("search.body_truncated", body_chars=len(document.body))
        await words.add(conn, document.config, added.words, added.headline)
