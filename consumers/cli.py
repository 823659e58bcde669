"""The `cms-consumer` command: runs one consumer by name."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(add_completion=False, help="Run an event consumer")

CONSUMERS: dict[str, str] = {}


@app.command()
def run(name: Annotated[str, typer.Argument(help="the consumer to run")]) -> None:
    """Run the named consumer until SIGTERM."""
    if name not in CONSUMERS:
        known = ", ".join(sorted(CONSUMERS)) or "none yet"
        typer.echo(f"unknown consumer {name!r}; known: {known}", err=True)
        raise typer.Exit(2)


def main() -> None:
    app()
