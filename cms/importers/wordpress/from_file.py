"""Importing a WXR file: the survey (which refuses a bad file before anything is written), then
the posts, written by a few connections at once, then the "see also" pass.

Writing is mostly waiting for the database, so `workers` connections write side by side while
this task reads the file. A post goes to the worker its id names (`post_id % workers`): the same
post twice in a file is written in order, never by two transactions at once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from cms.importers.wordpress import mapping, wxr
from cms.importers.wordpress.progress import Progress
from cms.importers.wordpress.report import Report
from cms.importers.wordpress.run import Importer, fast_commits
from cms.importers.wordpress.source import SourcePost
from cms.platform import db
from cms.settings import Settings

WORKERS = 4


async def import_wxr(
    settings: Settings,
    path: Path,
    options: mapping.Options,
    progress: Progress | None = None,
    *,
    workers: int = WORKERS,
) -> Report:
    """The whole file, or nothing if it is refused (it is read once in full before writing)."""
    report = Report(source=str(path))
    try:
        known = await asyncio.to_thread(wxr.survey, path)
    except wxr.Refused as exc:
        report.refused = str(exc)
        return report
    if progress is not None:
        progress.total(known.items)
    queues: list[asyncio.Queue[SourcePost | None]] = [asyncio.Queue(maxsize=8) for _ in range(workers)]

    async def write(queue: asyncio.Queue[SourcePost | None]) -> None:
        async with db.connection(settings, application_name="cms-import") as conn:
            await fast_commits(conn)
            importer = Importer(conn, known.site, options, report)
            while (post := await queue.get()) is not None:
                await importer.one(post)
                if progress is not None:
                    progress.advance(1)

    async with asyncio.TaskGroup() as group:
        for queue in queues:
            group.create_task(write(queue))
        try:
            for post in wxr.posts(path, known):
                await queues[post.post_id % workers].put(post)
        finally:
            for queue in queues:
                await queue.put(None)
    report.lines.sort(key=lambda line: line.post_id)
    async with db.connection(settings, application_name="cms-import") as conn:
        await fast_commits(conn)
        await Importer(conn, known.site, options, report).relate_all()
    return report
