"""Make the index match the article as of the event's version."""

from __future__ import annotations

import uuid
from collections import OrderedDict

import structlog

from cms.events.contract import ArticleEvent, is_live
from cms.platform.db import Connection
from consumers.runtime.offload import Offload
from consumers.search import store, words
from consumers.search.additions import Additions, additions_of
from consumers.search.compounds import Splitter
from consumers.search.document import Document, document_of

log = structlog.get_logger(__name__)


# Prepared documents kept for their transaction, at most this many (the oldest dropped): an
# event whose claim fails is never applied, and `apply` prepares again what it does not find.
PREPARED = 1024


class Indexer:
    """Indexes live articles with what readers may type besides their text (compound parts,
    other spellings: computed off the event loop, before the transaction), and removes the
    others."""

    def __init__(self, splitter: Splitter, offload: Offload | None = None) -> None:
        self.splitter = splitter
        self.offload = offload or Offload("search", workers=1)
        self._prepared: OrderedDict[uuid.UUID, tuple[Document, Additions]] = OrderedDict()

    async def prepare(self, event: ArticleEvent) -> None:
        """The document and its additions, before the transaction opens: computed inside it,
        they kept the transaction open, a pooled connection and its rows locked while waiting
        for the offload's one thread (sampled at 20 publishes/s over 100,000 articles: the
        consumer's sessions were idle in a transaction in 462 of 744 samples, 210 after)."""
        if is_live(event.data):
            self._prepared[event.id] = await self._document(event)
            while len(self._prepared) > PREPARED:
                self._prepared.popitem(last=False)

    async def _document(self, event: ArticleEvent) -> tuple[Document, Additions]:
        document = document_of(event.data)
        return document, await self.offload.run(additions_of, document, self.splitter)

    async def apply(self, conn: Connection, event: ArticleEvent) -> None:
        if not is_live(event.data):
            await store.remove(conn, event.data.id)
            return
        prepared = self._prepared.pop(event.id, None)
        document, added = prepared if prepared is not None else await self._document(event)
        if await store.upsert(conn, document, added.extra):
            # Not an error (the index holds the live text, as much as a tsvector takes), but
            # the end of this article cannot be found: worth a look if it happens often.
            log.warning("search.body_truncated", body_chars=len(document.body))
        await words.add(conn, document.config, added.words, added.headline)
