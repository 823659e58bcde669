"""The version claim: apply an article's event only if it is newer than what was applied.

In the same transaction as the handler's writes, so a redelivered or stale event is a no-op
and a crash between commit and ack cannot apply anything twice.
"""

from __future__ import annotations

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


async def applied_version(conn: Connection, schema: str, article_id: object) -> int | None:
    found: int | None = await conn.fetchval(
        f"SELECT version FROM {schema}.applied_versions WHERE article_id = $1", article_id
    )
    return found
