"""Real PostgreSQL for every test: a template database migrated once, cloned per test."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx2
import pytest
from starlette.applications import Starlette

from cms import schema
from cms.app import create_app
from cms.platform import tokens
from cms.system import SystemSettings
from tests.services import AMQP_URL, admin_connection, dsn_for, remove_broker_names

# Each run creates its own databases and broker names and removes them afterwards.
RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
_counter = itertools.count()


@pytest.fixture(scope="session")
async def template_database() -> AsyncIterator[str]:
    name = f"cms_test_{RUN_ID}_template"
    await schema.migrate(dsn_for(name))
    yield name
    admin = await admin_connection()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def database_url(template_database: str) -> AsyncIterator[str]:
    name = f"cms_test_{RUN_ID}_{next(_counter)}"
    admin = await admin_connection()
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    finally:
        await admin.close()
    yield dsn_for(name)
    admin = await admin_connection()
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def settings(database_url: str) -> AsyncIterator[SystemSettings]:
    """SystemSettings for one test: its own database and its own exchange and queue names, which
    are removed from the broker afterwards (whatever the test declared under them)."""
    prefix = f"test_{RUN_ID}_{next(_counter)}"
    yield SystemSettings(
        database_url=database_url,
        amqp_url=AMQP_URL,
        amqp_prefix=prefix,
        log_format="json",
        log_level="warning",
        pool_min_size=1,
        pool_max_size=8,
    )
    await remove_broker_names(prefix)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    """A plain connection to the test database, for looking behind the API."""
    conn = await asyncpg.connect(database_url)
    await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=str, decoder=__import__("json").loads)
    yield conn
    await conn.close()


@pytest.fixture
async def app(settings: SystemSettings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
        yield client


@pytest.fixture
async def token(db: asyncpg.Connection[asyncpg.Record]) -> dict[str, str]:
    """One token per role, and a second author, by role name."""
    made = {
        "admin": await tokens.create(db, name="ada", role="admin"),
        "editor": await tokens.create(db, name="eddie", role="editor"),
        "author": await tokens.create(db, name="aurelia", role="author"),
        "other_author": await tokens.create(db, name="otto", role="author"),
    }
    return {role: created.token for role, created in made.items()}
