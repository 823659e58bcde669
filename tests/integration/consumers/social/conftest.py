"""Local stand-ins for the networks the social consumer posts to, one set per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.consumers.social.fakes import Networks, networks


@pytest.fixture
async def fakes() -> AsyncIterator[Networks]:
    async with networks() as running:
        yield running
