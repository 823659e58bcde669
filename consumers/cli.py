"""`cms-consumer NAME` runs one consumer; `cms-consumer NAME dlq list|requeue|purge` tends its DLQ;
`cms-consumer NAME COMMAND` runs a command of its own (`cms-consumer search rebuild`)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from cms.platform import log
from cms.platform.application import create_ops_app
from cms.platform.server import run_server
from cms.platform.settings import ConfigurationError
from consumers import dlq, process
from consumers.registry import CONSUMERS

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="Run an event consumer, or tend its dead-letter queue",
)


@app.command()
def main_command(
    name: Annotated[str, typer.Argument(help=f"the consumer: {', '.join(sorted(CONSUMERS))}")],
    command: Annotated[
        list[str] | None,
        typer.Argument(help="nothing to run it; or: dlq list|requeue|purge; search: rebuild"),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="health/metrics/API port (default: CMS_<NAME>_PORT)")
    ] = None,
    limit: Annotated[int, typer.Option(help="dlq list: how many to show")] = 20,
) -> None:
    spec = CONSUMERS.get(name)
    if spec is None:
        typer.echo(f"unknown consumer {name!r}; known: {', '.join(sorted(CONSUMERS))}", err=True)
        raise typer.Exit(2)
    settings = spec.load_settings()
    log.configure(settings)
    match command or []:
        case []:
            factory, operations = process.parts(spec, settings)
            application = create_ops_app(settings, [factory], name=f"cms-{name}", extra_operations=operations)
            asyncio.run(run_server(application, settings.host, port or spec.port(settings)))
        case ["dlq", "list"]:
            for line in asyncio.run(dlq.list_messages(settings, spec, limit)):
                typer.echo(line)
        case ["dlq", "requeue"]:
            moved = asyncio.run(dlq.requeue(settings, spec))
            typer.echo(f"{moved} message(s) moved back to {spec.queue(settings)}", err=True)
        case ["dlq", "purge"]:
            purged = asyncio.run(dlq.purge(settings, spec))
            typer.echo(f"{purged} message(s) purged from {spec.queue(settings)}.dlq", err=True)
        case [own] if own in spec.commands:
            raise typer.Exit(spec.commands[own](settings))
        case _:
            extra = "".join(f", or {own}" for own in sorted(spec.commands))
            typer.echo(f"commands: (none) to run, or dlq list|requeue|purge{extra}", err=True)
            raise typer.Exit(2)


def main() -> None:
    try:
        app()
    except ConfigurationError as exc:
        # Named settings, no values and no traceback: values may hold credentials.
        typer.echo(f"configuration error: {exc}", err=True)
        raise SystemExit(2) from None
