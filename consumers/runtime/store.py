"""The consumer's store: its schema, the version-claim table and its own migrations."""

from __future__ import annotations

from typing import Any

import asyncpg

from cms.platform import migrate
from consumers.runtime import claims
from consumers.runtime.settings import ConsumerSettings
from consumers.runtime.spec import ConsumerSpec


async def prepare(settings: ConsumerSettings, spec: ConsumerSpec[Any]) -> None:
    """Idempotent: create what is missing, apply new migrations (refusing changed ones)."""
    dsn = spec.dsn(settings)
    await migrate.create_database_if_missing(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {spec.schema}")
        await conn.execute(claims.CREATE.format(schema=spec.schema))
        await migrate.apply(conn, migrate.load(spec.migrations), table=f"{spec.schema}.schema_migrations")
    finally:
        await conn.close()
