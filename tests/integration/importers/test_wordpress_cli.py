"""`cms import wordpress` as an operator runs it: a real process against the test database."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import asyncpg

from tests.integration.importers.wordpress import NEWSROOM, footprint

CMS = Path(sys.executable).parent / "cms"


async def cms(database_url: str, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "CMS_DATABASE_URL": database_url,
        "CMS_LOG_FORMAT": "json",
        "CMS_LOG_LEVEL": "warning",
    }
    process = await asyncio.create_subprocess_exec(
        str(CMS), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_command_imports_reports_as_text_and_json_and_refuses_a_hostile_file(
    database_url: str, db: asyncpg.Connection[asyncpg.Record], tmp_path: Path
) -> None:
    """Exit 0 with the counts and a JSON report; a file with a DOCTYPE exits 1 and writes nothing;
    naming no source or both is a usage error (exit 2)."""
    hostile = tmp_path / "hostile.xml"
    hostile.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><rss>&x;</rss>')
    code, out, _ = await cms(database_url, "import", "wordpress", "--wxr", str(hostile))
    assert code == 1
    assert "refused:" in out
    assert "nothing was imported" in out
    assert set((await footprint(db)).values()) == {0}

    report = tmp_path / "report.json"
    code, out, err = await cms(
        database_url,
        "import",
        "wordpress",
        "--wxr",
        str(NEWSROOM),
        "--no-social",
        "--report-json",
        str(report),
    )

    assert code == 0, err
    assert "6 imported, 0 updated, 0 unchanged, 2 skipped" in out
    assert "105 'Impressum': a page, not a post" in out
    data = json.loads(report.read_text())
    assert data["counts"] == {"imported": 6, "updated": 0, "unchanged": 0, "skipped": 2}
    # Listed: the skipped ones and those with notes; the rest are counted.
    assert {post["post_id"] for post in data["posts"]} == {101, 102, 104, 105, 107}
    assert await db.fetchval("SELECT count(*) FROM articles WHERE NOT post_to_social") == 6
    for usage in ((), ("--wxr", str(NEWSROOM), "--rest", "https://x.example")):
        code, _, err = await cms(database_url, "import", "wordpress", *usage)
        assert code == 2
        assert "name one source" in err
