"""Make the index match the article as of the event's version."""

from __future__ import annotations

from cms.db import Connection
from cms.events.contract import Article, ArticleEvent
from consumers.search import store
from consumers.search.document import document_of


def is_searchable(article: Article) -> bool:
    return article.status == "published" and article.deleted_at is None and article.published_at is not None


async def apply(conn: Connection, event: ArticleEvent) -> None:
    if is_searchable(event.data):
        await store.upsert(conn, document_of(event.data))
    else:
        await store.remove(conn, event.data.id)
