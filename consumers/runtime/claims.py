"""The version claim: apply an article's event only if it is newer than what was applied.

In the same transaction as the handler's writes, so a redelivered or stale event is a no-op
and a crash between commit and ack cannot apply anything twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import NamedTuple

from cms.events.contract import ArticleEvent
from cms.platform.db import Connection

CREATE = """
CREATE TABLE IF NOT EXISTS {schema}.applied_versions (
    article_id uuid PRIMARY KEY,
    version    integer NOT NULL,
    event_id   uuid NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""

_CLAIM = """
INSERT INTO {schema}.applied_versions AS seen (article_id, version, event_id)
VALUES ($1, $2, $3)
ON CONFLICT (article_id) DO UPDATE
    SET version = excluded.version, event_id = excluded.event_id, applied_at = now()
    WHERE seen.version < excluded.version
RETURNING version"""


async def claim(conn: Connection, schema: str, event: ArticleEvent) -> bool:
    """True if this event is the newest seen for its article (and is now recorded as applied)."""
    claimed = await conn.fetchval(_CLAIM.format(schema=schema), event.data.id, event.articleversion, event.id)
    return claimed is not None


# Many at once, in article order (two batches that share an article wait for each other, they
# never deadlock); at most one row per article, or ON CONFLICT would touch a row twice.
_CLAIM_MANY = """
INSERT INTO {table} AS seen (article_id, version, event_id)
SELECT n.article_id, n.version, n.event_id
FROM unnest($1::uuid[], $2::integer[], $3::uuid[]) AS n(article_id, version, event_id)
ORDER BY n.article_id
ON CONFLICT (article_id) DO UPDATE
    SET version = excluded.version, event_id = excluded.event_id, applied_at = now()
    WHERE seen.version < excluded.version
RETURNING article_id"""


class Claim(NamedTuple):
    article_id: uuid.UUID
    version: int
    event_id: uuid.UUID


async def claim_many(conn: Connection, table: str, events: Sequence[Claim]) -> list[Claim]:
    """Of `events`, those to apply: for each article the newest, if newer than what `table`
    (a claims table: `{schema}.applied_versions` or a copy of it) records; now recorded."""
    newest: dict[uuid.UUID, Claim] = {}
    for event in events:
        known = newest.get(event.article_id)
        if known is None or known.version < event.version:
            newest[event.article_id] = event
    rows = await conn.fetch(
        _CLAIM_MANY.format(table=table),
        list(newest),
        [e.version for e in newest.values()],
        [e.event_id for e in newest.values()],
    )
    claimed = {r["article_id"] for r in rows}
    return [event for article_id, event in newest.items() if article_id in claimed]


async def applied_version(conn: Connection, schema: str, article_id: object) -> int | None:
    found: int | None = await conn.fetchval(
        f"SELECT version FROM {schema}.applied_versions WHERE article_id = $1", article_id
    )
    return found
