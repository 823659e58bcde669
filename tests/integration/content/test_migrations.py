"""`cms migrate`: numbered SQL files, applied in order, each in its own transaction, recorded."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from cms.platform.migrate import MigrationError, migrate
from tests.services import SERVER_DSN, dsn_for


@pytest.fixture
async def dsn() -> AsyncIterator[str]:
    """A database name nobody has used; whatever the test creates under it is dropped after."""
    name = f"cms_test_mig_{uuid.uuid4().hex[:12]}"
    yield dsn_for(name)
    admin = await asyncpg.connect(SERVER_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    directory.mkdir()
    return directory


def write(directory: Path, name: str, sql: str) -> Path:
    path = directory / name
    path.write_text(sql, encoding="utf-8")
    return path


async def database_exists(name: str) -> bool:
    admin = await asyncpg.connect(SERVER_DSN)
    try:
        return bool(await admin.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name))
    finally:
        await admin.close()


async def fetch(dsn: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


async def table_exists(dsn: str, table: str) -> bool:
    rows = await fetch(dsn, f"SELECT to_regclass('public.{table}') IS NOT NULL AS found")
    return bool(rows[0]["found"])


async def recorded(dsn: str) -> list[str]:
    return [row["name"] for row in await fetch(dsn, "SELECT name FROM schema_migrations ORDER BY version")]


# Written highest number first, so neither creation order nor directory order can pass for
# numeric order; each one depends on the one before it.
_CHAIN = {
    "0010_add_index.sql": (
        "CREATE INDEX notes_text ON notes (text);\nINSERT INTO steps (name) VALUES ('0010');\n"
    ),
    "0002_add_column.sql": (
        "ALTER TABLE notes ADD COLUMN text text;\nINSERT INTO steps (name) VALUES ('0002');\n"
    ),
    "0001_create.sql": (
        "CREATE TABLE steps (n serial PRIMARY KEY, name text NOT NULL);\n"
        "CREATE TABLE notes (id integer PRIMARY KEY);\n"
        "INSERT INTO steps (name) VALUES ('0001');\n"
    ),
}


def write_chain(directory: Path) -> None:
    for name, sql in _CHAIN.items():
        write(directory, name, sql)


async def test_migrate_creates_the_database_when_it_is_missing(dsn: str, migrations: Path) -> None:
    """`cms migrate` against a database that does not exist creates it, then applies the files."""
    name = dsn.rsplit("/", 1)[1]
    write(migrations, "0001_create.sql", "CREATE TABLE notes (id integer PRIMARY KEY);")
    assert not await database_exists(name)

    await migrate(dsn, migrations)

    assert await database_exists(name)
    assert await table_exists(dsn, "notes")


async def test_migrate_applies_files_in_numeric_order(dsn: str, migrations: Path) -> None:
    """Files apply by number (0010 after 0002), not by string order."""
    write_chain(migrations)

    applied = await migrate(dsn, migrations)

    assert applied == ["0001_create.sql", "0002_add_column.sql", "0010_add_index.sql"]
    steps = await fetch(dsn, "SELECT name FROM steps ORDER BY n")
    assert [row["name"] for row in steps] == ["0001", "0002", "0010"]


async def test_migrate_records_each_file_with_its_version_and_checksum(dsn: str, migrations: Path) -> None:
    """Each applied file is recorded with its version, name, SHA-256 and the time it was applied."""
    write_chain(migrations)

    await migrate(dsn, migrations)

    rows = await fetch(
        dsn, "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
    )
    assert [(row["version"], row["name"]) for row in rows] == [
        (1, "0001_create.sql"),
        (2, "0002_add_column.sql"),
        (10, "0010_add_index.sql"),
    ]
    for row in rows:
        assert row["checksum"] == hashlib.sha256((migrations / row["name"]).read_bytes()).hexdigest()
        assert row["applied_at"] is not None


async def test_migrate_again_applies_nothing_and_changes_no_record(dsn: str, migrations: Path) -> None:
    """A second run over the same files applies nothing and leaves the records untouched."""
    write_chain(migrations)
    await migrate(dsn, migrations)
    before = await fetch(dsn, "SELECT * FROM schema_migrations ORDER BY version")

    applied = await migrate(dsn, migrations)

    assert applied == []
    assert await fetch(dsn, "SELECT * FROM schema_migrations ORDER BY version") == before
    steps = await fetch(dsn, "SELECT name FROM steps ORDER BY n")
    assert [row["name"] for row in steps] == ["0001", "0002", "0010"]


async def test_migrate_applies_only_files_added_since_the_last_run(dsn: str, migrations: Path) -> None:
    """A later run applies just the new file and records it beside the old ones."""
    write(migrations, "0001_create.sql", _CHAIN["0001_create.sql"])
    await migrate(dsn, migrations)
    write(migrations, "0002_add_column.sql", _CHAIN["0002_add_column.sql"])

    applied = await migrate(dsn, migrations)

    assert applied == ["0002_add_column.sql"]
    assert await recorded(dsn) == ["0001_create.sql", "0002_add_column.sql"]


async def test_a_changed_applied_file_is_refused_naming_it_and_nothing_is_applied(
    dsn: str, migrations: Path
) -> None:
    """An edited applied file stops the run, named, before any new file (even one numbered earlier) runs."""
    write(migrations, "0001_create.sql", _CHAIN["0001_create.sql"])
    write(migrations, "0003_later.sql", "CREATE TABLE later (id integer);")
    await migrate(dsn, migrations)
    # A new file numbered before the edited one: it must not slip in ahead of the refusal.
    write(migrations, "0002_new.sql", "CREATE TABLE slipped_in (id integer);")
    write(migrations, "0003_later.sql", "CREATE TABLE later (id integer, edited text);")
    write(migrations, "0004_new.sql", "CREATE TABLE also_new (id integer);")

    with pytest.raises(MigrationError, match=re.escape("0003_later.sql")) as refused:
        await migrate(dsn, migrations)

    assert "changed" in str(refused.value)
    assert await recorded(dsn) == ["0001_create.sql", "0003_later.sql"]
    assert not await table_exists(dsn, "slipped_in")
    assert not await table_exists(dsn, "also_new")
    columns = await fetch(
        dsn, "SELECT column_name FROM information_schema.columns WHERE table_name = 'later'"
    )
    assert [row["column_name"] for row in columns] == ["id"]


async def test_a_failing_migration_rolls_back_entirely_and_stops_the_run(dsn: str, migrations: Path) -> None:
    """A failing file leaves no half of itself behind, is not recorded, and no later file runs."""
    write(migrations, "0001_create.sql", _CHAIN["0001_create.sql"])
    write(
        migrations,
        "0002_breaks.sql",
        "CREATE TABLE half_done (id integer);\nINSERT INTO steps (name) VALUES ('0002');\nSELECT 1 / 0;\n",
    )
    write(migrations, "0003_after.sql", "CREATE TABLE after_the_failure (id integer);")

    with pytest.raises(MigrationError, match=re.escape("0002_breaks.sql")):
        await migrate(dsn, migrations)

    assert await recorded(dsn) == ["0001_create.sql"]
    assert not await table_exists(dsn, "half_done")
    assert not await table_exists(dsn, "after_the_failure")
    steps = await fetch(dsn, "SELECT name FROM steps ORDER BY n")
    assert [row["name"] for row in steps] == ["0001"]


async def test_a_fixed_migration_applies_after_a_failed_run(dsn: str, migrations: Path) -> None:
    """Once the failing file is fixed, the next run applies it."""
    write(migrations, "0001_breaks.sql", "CREATE TABLE notes (id integer);\nSELECT 1 / 0;\n")
    with pytest.raises(MigrationError):
        await migrate(dsn, migrations)
    write(migrations, "0001_breaks.sql", "CREATE TABLE notes (id integer);\n")

    applied = await migrate(dsn, migrations)

    assert applied == ["0001_breaks.sql"]
    assert await table_exists(dsn, "notes")
