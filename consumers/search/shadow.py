"""The rebuild's copy of the search store: made empty beside the live tables, given their
indexes once it is full, then put in their place in one transaction.

What the copy is made of is read from the catalog (columns, defaults, storage, fillfactor,
primary key and every index, as the migrations left them), not written out here a second
time: a later migration that adds an index or a column is rebuilt the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from cms.platform.db import Connection

SCHEMA = "search"
# The live tables (the claims table is the consumer runtime's) and their copies.
TABLES = ("documents", "words", "applied_versions")
SUFFIX = "_next"

_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX (\S+) ON (?:ONLY )?(\S+) (USING .*)$", re.DOTALL)


@dataclass(frozen=True)
class Tables:
    documents: str
    words: str
    claims: str


NEXT = Tables(*(f"{SCHEMA}.{name}{SUFFIX}" for name in TABLES))


@dataclass(frozen=True)
class Index:
    name: str  # as on the live table
    method: str
    statement: str  # for the copy (named NAME_next)


class RebuildRunning(RuntimeError):
    """Another rebuild holds the store's copies."""


async def claim_copies(conn: Connection) -> None:
    """For as long as this session lasts: the copies are this rebuild's (a second one would
    drop them under the first), else RebuildRunning."""
    if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext('search.rebuild'))"):
        raise RebuildRunning("another `cms-consumer search rebuild` is running on this store")


async def create(conn: Connection) -> None:
    """Empty copies of the live tables, with their primary keys (a copy left by a rebuild that
    stopped half way is dropped first)."""
    await drop(conn)
    for name in TABLES:
        live, copy = f"{SCHEMA}.{name}", f"{SCHEMA}.{name}{SUFFIX}"
        await conn.execute(
            f"CREATE TABLE {copy} (LIKE {live} INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
            " INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING GENERATED)"
        )
        options = await conn.fetchval("SELECT reloptions FROM pg_class WHERE oid = $1::regclass", live)
        if options:
            await conn.execute(f"ALTER TABLE {copy} SET ({', '.join(options)})")
        key = await conn.fetchrow(
            "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint"
            " WHERE conrelid = $1::regclass AND contype = 'p'",
            live,
        )
        if key is not None:
            await conn.execute(
                f"ALTER TABLE {copy} ADD CONSTRAINT {key['conname']}{SUFFIX} {key['definition']}"
            )


async def drop(conn: Connection) -> None:
    await conn.execute(f"DROP TABLE IF EXISTS {', '.join(f'{SCHEMA}.{n}{SUFFIX}' for n in TABLES)}")


async def indexes(conn: Connection) -> list[Index]:
    """The live tables' indexes but their primary keys, as statements that build them on the
    copies; the slowest to build first (RUM, then GIN: minutes and seconds per 100,000
    articles, where a btree takes a fraction of a second)."""
    rows = await conn.fetch(
        """
        SELECT c.relname AS name, am.amname AS method, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = ANY($1::regclass[]) AND NOT i.indisprimary AND i.indisvalid
        ORDER BY am.amname = 'rum' DESC, am.amname = 'gin' DESC, pg_relation_size(i.indexrelid) DESC,
                 c.relname""",
        [f"{SCHEMA}.{name}" for name in TABLES],
    )
    found = []
    for row in rows:
        match = _INDEX.match(row["definition"])
        if match is None:
            raise RuntimeError(f"cannot read the definition of index {row['name']}: {row['definition']}")
        unique, name, table, rest = match.groups()
        statement = f"CREATE {unique or ''}INDEX {name}{SUFFIX} ON {table}{SUFFIX} {rest}"
        found.append(Index(row["name"], row["method"], statement))
    return found


async def lock_live(conn: Connection, wait: timedelta) -> None:
    """In the swap's transaction: the live tables to ourselves (searches and the live consumer
    wait), giving up after `wait` rather than queueing every search behind us for longer."""
    await conn.execute("SELECT set_config('lock_timeout', $1, true)", f"{int(wait.total_seconds() * 1000)}ms")
    # In the order the live consumer takes them (claim, document, words), so that a transaction
    # of it caught half way waits for us rather than deadlocking with us.
    order = ("applied_versions", "documents", "words")
    await conn.execute(f"LOCK TABLE {', '.join(f'{SCHEMA}.{n}' for n in order)} IN ACCESS EXCLUSIVE MODE")


async def swap(conn: Connection, built: list[Index]) -> None:
    """In the transaction that holds the lock: the copies take the live tables' place, names
    of tables, keys and indexes included; the old tables are dropped."""
    keys = await conn.fetch(
        "SELECT c.conname, t.relname FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
        " WHERE c.conrelid = ANY($1::regclass[]) AND c.contype = 'p'",
        [f"{SCHEMA}.{name}{SUFFIX}" for name in TABLES],
    )
    await conn.execute(f"DROP TABLE {', '.join(f'{SCHEMA}.{n}' for n in TABLES)}")
    for name in TABLES:
        await conn.execute(f"ALTER TABLE {SCHEMA}.{name}{SUFFIX} RENAME TO {name}")
    for key in keys:
        conname, table = key["conname"], key["relname"].removesuffix(SUFFIX)
        await conn.execute(
            f"ALTER TABLE {SCHEMA}.{table} RENAME CONSTRAINT {conname} TO {conname.removesuffix(SUFFIX)}"
        )
    for index in built:
        await conn.execute(f"ALTER INDEX {SCHEMA}.{index.name}{SUFFIX} RENAME TO {index.name}")
