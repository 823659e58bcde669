"""The content app's database schema: its migrations, in `schema/migrations` of the source tree."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from cms.platform import migrate as migrations


def directory() -> Path:
    """`schema/migrations` of the source tree; `CMS_MIGRATIONS_DIR` overrides (installed images)."""
    override = os.environ.get("CMS_MIGRATIONS_DIR")
    if override:
        return Path(override)
    return Path(str(resources.files("cms"))).parent / "schema" / "migrations"


async def migrate(dsn: str) -> list[str]:
    """Create the database if missing and apply the content app's new migrations."""
    return await migrations.migrate(dsn, directory())
