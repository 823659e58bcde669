"""The `cms` command: migrate, serve, up, token."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from cms import processes, schema
from cms.app import create_app
from cms.events import outbox, replay, schemas
from cms.importers.wordpress.cli import import_app
from cms.platform import audit, db, log, migrate, passwords, tokens, users
from cms.platform.application import create_ops_app
from cms.platform.server import run_server
from cms.platform.settings import ConfigurationError, load
from cms.settings import Settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False, help="Newsroom CMS"
)
token_app = typer.Typer(no_args_is_help=True, help="API tokens")
app.add_typer(token_app, name="token")
user_app = typer.Typer(no_args_is_help=True, help="People who sign in: create, change role, disable")
app.add_typer(user_app, name="user")
events_app = typer.Typer(no_args_is_help=True, help="The event log: schemas, replay, resync, parked events")
app.add_typer(events_app, name="events")
app.add_typer(import_app, name="import")

Host = Annotated[str | None, typer.Option(help="address to bind (default: CMS_HOST)")]
Port = Annotated[int | None, typer.Option(help="port (default: CMS_PORT)")]


def _settings() -> Settings:
    settings = load(Settings)
    log.configure(settings)
    return settings


@app.command("migrate")
def migrate_command() -> None:
    """Create the database if missing and apply new migrations."""
    settings = _settings()
    try:
        applied = asyncio.run(schema.migrate(settings.database_url))
    except migrate.MigrationError as exc:
        typer.echo(f"migration failed: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"{len(applied)} migration(s) applied" + (f": {', '.join(applied)}" if applied else ""), err=True
    )


@app.command()
def serve(host: Host = None, port: Port = None) -> None:
    """Run the content API. SIGTERM finishes in-flight requests, then exits 0."""
    settings = _settings()
    asyncio.run(run_server(create_app(settings), host or settings.host, port or settings.port))


@app.command()
def relay(port: Port = None) -> None:
    """Run the outbox relay, the scheduler and the event-log pruner; health and metrics on CMS_RELAY_PORT."""
    settings = _settings()
    app_ = create_ops_app(settings, processes.relay(settings), name="cms-relay")
    asyncio.run(run_server(app_, settings.host, port or settings.relay_port))


@app.command()
def up(host: Host = None, port: Port = None) -> None:
    """Migrate, then run the whole system in one process on one port: API, relay, scheduler."""
    from cms import system  # the composition root: only `cms up` needs every part

    settings = load(system.SystemSettings)
    log.configure(settings)
    asyncio.run(schema.migrate(settings.database_url))
    bind_host, bind_port = host or settings.host, port or settings.port
    base = f"http://{bind_host}:{bind_port}"
    typer.echo(
        f"\nCMS is up on {base}\n"
        f"  API docs      {base}/docs\n"
        f"  OpenAPI       {base}/openapi.json\n"
        f"  delivery      {base}/v1/content/articles\n"
        f"  search        {base}/v1/search?q=...\n"
        f"  health        {base}/healthz  {base}/readyz  {base}/metrics\n"
        "  first token:  cms token create --role admin --name you\n",
        err=True,
    )
    asyncio.run(run_server(system.everything(settings), bind_host, bind_port))


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin, editor or author")],
    name: Annotated[str, typer.Option(help="the person or system the token is for")],
) -> None:
    """Create a token; prints the secret alone on one line (it is not shown again)."""
    if role not in ("admin", "editor", "author"):
        typer.echo("role must be admin, editor or author", err=True)
        raise typer.Exit(2)
    settings = _settings()
    created = asyncio.run(_create_token(settings, role, name))
    typer.echo(created.token)


async def _create_token(settings: Settings, role: str, name: str) -> tokens.CreatedToken:
    async with db.connection(settings) as conn:
        return await tokens.create(conn, name=name, role=role)  # type: ignore[arg-type]


Email = Annotated[str, typer.Option(help="the user's email (any case)")]
RoleOption = Annotated[str, typer.Option(help="admin, editor or author")]


@user_app.command("create")
def user_create(
    email: Email,
    name: Annotated[str, typer.Option(help="display name")],
    role: RoleOption,
) -> None:
    """Create a person. The password is asked for (or read as one line from standard input),
    never taken as an argument: arguments end up in shell histories and process lists."""
    _check_role(role)
    password = _read_password()
    settings = _settings()
    user = asyncio.run(_create_user(settings, email, name, role, password))
    typer.echo(user.id)


@user_app.command("set-role")
def user_set_role(email: Email, role: RoleOption) -> None:
    """Change a person's role (the last enabled admin stays one)."""
    _check_role(role)
    settings = _settings()
    asyncio.run(_change_user(settings, email, role=role))


@user_app.command("disable")
def user_disable(email: Email) -> None:
    """Disable a person: their sessions and tokens stop working at once."""
    settings = _settings()
    asyncio.run(_change_user(settings, email, disabled=True))


def _check_role(role: str) -> None:
    if role not in ("admin", "editor", "author"):
        typer.echo("role must be admin, editor or author", err=True)
        raise typer.Exit(2)


def _read_password() -> str:
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if not passwords.MIN_LENGTH <= len(password) <= passwords.MAX_LENGTH:
        typer.echo(
            f"the password needs {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} characters", err=True
        )
        raise typer.Exit(2)
    return password


async def _create_user(settings: Settings, email: str, name: str, role: str, password: str) -> users.UserInfo:
    hashed = await passwords.Hashing(1).hash(password)
    async with db.connection(settings, application_name="cms-user") as conn:
        try:
            return await users.create(
                conn,
                email=email,
                name=name,
                role=role,  # type: ignore[arg-type]  # checked by _check_role
                password_hash=hashed,
                by=audit.COMMAND_LINE,
                address=None,
            )
        except users.EmailTaken as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None


async def _change_user(
    settings: Settings, email: str, *, role: str | None = None, disabled: bool | None = None
) -> None:
    async with db.connection(settings, application_name="cms-user") as conn:
        found = await users.credentials(conn, email)
        if found is None:
            typer.echo(f"no user with the email {email}", err=True)
            raise typer.Exit(1)
        try:
            await users.change(
                conn,
                found.user.id,
                role=role,  # type: ignore[arg-type]  # checked by _check_role
                disabled=disabled,
                by=audit.COMMAND_LINE,
                address=None,
            )
        except users.LastAdmin as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None


@events_app.command("schemas")
def events_schemas(
    check: Annotated[bool, typer.Option(help="only report drift; exit 1 if any file differs")] = False,
) -> None:
    """Write schema/events/*.json from the contract models (or check they are current)."""
    directory = schemas.default_directory()
    if check:
        stale = schemas.drift(directory)
        if stale:
            typer.echo(f"out of date: {', '.join(stale)} (run `cms events schemas`)", err=True)
            raise typer.Exit(1)
        return
    for name in schemas.write(directory):
        typer.echo(f"wrote schema/events/{name}", err=True)


QueueName = Annotated[str, typer.Option("--to", help="the queue to send to, e.g. cms.search")]


@events_app.command("replay")
def events_replay(
    to: QueueName,
    since: Annotated[datetime | None, typer.Option(help="only events from this time on (ISO 8601)")] = None,
    article: Annotated[str | None, typer.Option(help="only this article's events (its id)")] = None,
) -> None:
    """Re-publish stored events, oldest first, straight to one queue (not the exchange)."""
    settings = _settings()
    article_id = _article_id(article)
    moment = since if since is None or since.tzinfo else since.replace(tzinfo=UTC)
    total, parked = asyncio.run(replay.count_replay(settings, moment, article_id))
    with _progress(f"replaying to {to}", total) as advance:
        sent = asyncio.run(replay.replay(settings, to, since=moment, article_id=article_id, progress=advance))
    typer.echo(f"{sent} event(s) replayed to {to}", err=True)
    if parked:
        typer.echo(f"{parked} parked event(s) left out: see `cms events parked`", err=True)


@events_app.command("parked")
def events_parked() -> None:
    """List the events the relay parked as unpublishable, oldest first, with the reason."""
    settings = _settings()
    found = asyncio.run(_parked(settings))
    for row in found:
        typer.echo(
            f"{row.sequence}\t{row.event_id}\t{row.event_type}\t{row.article_id}\t"
            f"{row.parked_at.isoformat()}\t{row.reason}"
        )
    typer.echo(
        f"{len(found)} parked event(s)"
        + (": fix each, then `cms events unpark SEQUENCE...`" if found else ""),
        err=True,
    )


@events_app.command("unpark")
def events_unpark(
    sequences: Annotated[list[int] | None, typer.Argument(help="the sequences to send again")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every parked event")] = False,
) -> None:
    """Give parked events back to the relay, which tries them again (in sequence order, at once)."""
    if bool(sequences) == all_:
        typer.echo("name the sequences to unpark, or --all", err=True)
        raise typer.Exit(2)
    settings = _settings()
    chosen = None if all_ else sequences or []
    unparked = asyncio.run(_unpark(settings, chosen))
    missing = sorted(set(chosen or ()) - set(unparked))
    typer.echo(
        f"{len(unparked)} event(s) unparked" + (f": {' '.join(map(str, unparked))}" if unparked else ""),
        err=True,
    )
    if missing:
        typer.echo(f"not parked: {' '.join(map(str, missing))}", err=True)
        raise typer.Exit(1)


async def _parked(settings: Settings) -> list[outbox.Parked]:
    async with db.connection(settings, application_name="cms-events") as conn:
        return await outbox.parked(conn)


async def _unpark(settings: Settings, sequences: list[int] | None) -> list[int]:
    async with db.connection(settings, application_name="cms-events") as conn:
        return await outbox.unpark(conn, sequences)


@events_app.command("resync")
def events_resync(to: QueueName) -> None:
    """Send the current state of every article as one event each, straight to one queue."""
    settings = _settings()
    total = asyncio.run(replay.count_resync(settings))
    with _progress(f"resyncing {to}", total) as advance:
        sent = asyncio.run(replay.resync(settings, to, progress=advance))
    typer.echo(f"{sent} article(s) sent to {to}", err=True)


def _article_id(text: str | None) -> uuid.UUID | None:
    if text is None:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        typer.echo(f"--article must be an article id (a UUID), not {text!r}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal; silent otherwise (logs and pipes stay clean)."""
    with Progress(console=Console(stderr=True), disable=not sys.stderr.isatty(), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def main() -> None:
    try:
        app()
    except ConfigurationError as exc:
        # Named settings, no values and no traceback: values may hold credentials.
        typer.echo(f"configuration error: {exc}", err=True)
        raise SystemExit(2) from None
