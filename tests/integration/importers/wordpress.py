"""Shared by the WordPress import tests: the exports in tests/data/wordpress and what an import
left behind in the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg

DATA = Path(__file__).resolve().parents[2] / "data" / "wordpress"
NEWSROOM = DATA / "newsroom.wxr"


async def articles_by_slug(db: asyncpg.Connection[asyncpg.Record]) -> dict[str, dict[str, Any]]:
    rows = await db.fetch("SELECT * FROM articles ORDER BY slug")
    return {row["slug"]: dict(row) for row in rows}


async def footprint(db: asyncpg.Connection[asyncpg.Record]) -> dict[str, int]:
    """How many rows an import may have written, table by table."""
    tables = ("articles", "article_revisions", "outbox", "wordpress_posts", "article_redirects")
    return {table: await db.fetchval(f"SELECT count(*) FROM {table}") for table in tables}


def variant(tmp: Path, name: str, replacements: list[tuple[str, str]]) -> Path:
    """The newsroom export with some text replaced, written next to the test's other files."""
    text = NEWSROOM.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path
