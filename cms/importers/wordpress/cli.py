"""`cms import wordpress --wxr FILE | --rest URL`: one command, safe to run twice."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from cms.articles.model import LANGUAGE_PATTERN
from cms.importers.wordpress import mapping, rest
from cms.importers.wordpress.from_file import import_wxr
from cms.importers.wordpress.report import Report
from cms.importers.wordpress.settings import ImportSettings
from cms.platform import log
from cms.platform.settings import load
from cms.settings import Settings

import_app = typer.Typer(no_args_is_help=True, help="Move content in from another system")

APP_PASSWORD_ENV = "CMS_WORDPRESS_APP_PASSWORD"  # noqa: S105 (the variable's name, not a password)


@import_app.command("wordpress")
def wordpress(
    wxr_file: Annotated[
        Path | None, typer.Option("--wxr", help="a WordPress export (Tools → Export), WXR 1.0 to 1.2")
    ] = None,
    rest_url: Annotated[
        str | None, typer.Option("--rest", help="the site's URL; its wp-json/wp/v2 is read")
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="the articles' language (default: the site's, e.g. de-DE → de)")
    ] = None,
    no_social: Annotated[
        bool, typer.Option("--no-social", help="never post the imported articles to social networks")
    ] = False,
    report_json: Annotated[Path | None, typer.Option(help="also write the report as JSON here")] = None,
    user: Annotated[
        str | None,
        typer.Option(
            help=f"REST: a WordPress user for drafts and private posts; password from {APP_PASSWORD_ENV}"
        ),
    ] = None,
    rate: Annotated[float, typer.Option(help="REST: requests per second at most", min=0.1)] = 5.0,
) -> None:
    """Import posts as articles (pages, trash and revisions are skipped) with redirects from
    their old permalinks. Run it again to bring changes over: nothing is duplicated."""
    if (wxr_file is None) == (rest_url is None):
        typer.echo("name one source: --wxr FILE or --rest URL", err=True)
        raise typer.Exit(2)
    if language is not None and not re.fullmatch(LANGUAGE_PATTERN, language):
        typer.echo(f"--language must be a language tag such as de or en-GB, not {language!r}", err=True)
        raise typer.Exit(2)
    settings = load(ImportSettings)
    log.configure(settings)
    options = mapping.Options(language=language, post_to_social=not no_social)
    started = time.monotonic()
    if wxr_file is not None:
        report = asyncio.run(_wxr(settings, wxr_file, options))
    else:
        assert rest_url is not None
        secret = settings.wordpress_app_password
        password = secret.get_secret_value() if user and secret is not None else None
        if user and not password:
            typer.echo(f"--user needs the application password in {APP_PASSWORD_ENV}", err=True)
            raise typer.Exit(2)
        credentials = (user, password) if user and password else None
        report = asyncio.run(_rest(settings, rest_url, options, credentials, rate))
    report.seconds = time.monotonic() - started
    typer.echo(report.as_text())
    if report_json is not None:
        report_json.write_bytes(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2))
    if report.refused is not None or report.interrupted is not None:
        raise typer.Exit(1)


async def _wxr(settings: ImportSettings, path: Path, options: mapping.Options) -> Report:
    with _progress("importing") as progress:
        return await import_wxr(settings, path, options, progress, workers=settings.wordpress_import_workers)


async def _rest(
    settings: Settings,
    url: str,
    options: mapping.Options,
    credentials: tuple[str, str] | None,
    rate: float,
) -> Report:
    with _progress("importing") as progress:
        return await rest.import_rest(
            settings, url, options, credentials=credentials, rate=rate, progress=progress
        )


class _Bar:
    def __init__(self, bar: Progress, task: TaskID) -> None:
        self.bar, self.task = bar, task

    def total(self, n: int) -> None:
        self.bar.update(self.task, total=n)

    def advance(self, n: int) -> None:
        self.bar.advance(self.task, n)


@contextmanager
def _progress(label: str) -> Iterator[_Bar]:
    """Counts and an ETA on a terminal; silent otherwise (logs and pipes stay clean)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), disable=not sys.stderr.isatty()) as bar:
        yield _Bar(bar, bar.add_task(label, total=None))
