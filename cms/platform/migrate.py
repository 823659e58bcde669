"""Numbered SQL migrations, applied in order inside transactions and recorded with a checksum."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg
import structlog

log = structlog.get_logger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Two `cms migrate` runs at once (e.g. two replicas starting) must not interleave.
_LOCK_KEY = 0x636D735F6D6967  # "cms_mig"

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS {table} (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


class MigrationError(Exception):
    """A migration cannot be applied safely; the message says why."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load(directory: Path) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_words.sql")
        found.append(Migration(int(match.group(1)), path.name, path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a number")
    return found


def database_name(dsn: str) -> str:
    parsed = urlsplit(dsn)
    name = parse_qs(parsed.query).get("dbname", [unquote(parsed.path.lstrip("/"))])[0]
    if not name:
        raise MigrationError(f"the database URL names no database: {parsed.scheme}://…")
    return name


async def create_database_if_missing(dsn: str) -> bool:
    """Create the database named in `dsn` when absent; True when it was created."""
    name = database_name(dsn)
    try:
        conn = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        pass
    else:
        await conn.close()
        return False
    admin = await asyncpg.connect(dsn, database="postgres")
    try:
        quoted = name.replace('"', '""')
        await admin.execute(f'CREATE DATABASE "{quoted}"')
    except asyncpg.DuplicateDatabaseError:
        return False
    finally:
        await admin.close()
    log.info("database.created", database=name)
    return True


async def apply(
    conn: asyncpg.Connection[asyncpg.Record], migrations: list[Migration], table: str = "schema_migrations"
) -> list[str]:
    """Apply what is new, refuse what changed; returns the names applied now.

    `table` records them (a consumer's store keeps its own, e.g. `search.schema_migrations`);
    it comes from code, never from input.
    """
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE.format(table=table))
        rows = await conn.fetch(f"SELECT version, name, checksum FROM {table}")
        applied = {row["version"]: row for row in rows}
        # Every applied file is checked before anything runs, so a refusal applies nothing.
        for migration in migrations:
            row = applied.get(migration.version)
            if row is not None and row["checksum"] != migration.checksum:
                raise MigrationError(
                    f"{migration.name} changed after it was applied "
                    f"(recorded checksum {row['checksum'][:12]}…, file {migration.checksum[:12]}…); "
                    "add a new migration instead of editing an applied one"
                )
        done = []
        for migration in migrations:
            if migration.version in applied:
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        f"INSERT INTO {table} (version, name, checksum) VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
            except asyncpg.PostgresError as exc:
                raise MigrationError(
                    f"{migration.name} failed and was rolled back: {type(exc).__name__}: {exc}"
                ) from exc
            log.info("migration.applied", migration=migration.name)
            done.append(migration.name)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def migrate(dsn: str, directory: Path) -> list[str]:
    """Create the database if missing and apply the migrations in `directory` not yet applied."""
    await create_database_if_missing(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        return await apply(conn, load(directory))
    finally:
        await conn.close()
