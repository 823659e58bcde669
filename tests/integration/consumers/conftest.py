"""The search consumer running in-process, for the tests that query it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from cms.system import SystemSettings
from consumers.search import SPEC as SEARCH
from tests.integration.consumers.helpers import running_consumer, without_rum


@pytest.fixture
async def search_app(consumer_settings: SystemSettings) -> AsyncIterator[httpx2.AsyncClient]:
    async with running_consumer(SEARCH, consumer_settings) as client:
        yield client


@pytest.fixture
async def search_app_without_rum(
    database_url: str, consumer_settings: SystemSettings
) -> AsyncIterator[httpx2.AsyncClient]:
    """The search consumer on a store migrated without the RUM index: the GIN path."""
    await without_rum(database_url)
    async with running_consumer(SEARCH, consumer_settings) as client:
        yield client
