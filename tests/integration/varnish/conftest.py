"""The stack the purge tests run: `cms serve` behind a real Varnish with the shipped VCL, the
relay, and the purge consumer purging that Varnish (through a proxy the test can cut)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from cms.system import SystemSettings
from consumers.purge import SPEC as PURGE
from tests.integration.consumers.helpers import running_consumer
from tests.integration.events.helpers import RelayStarter
from tests.integration.varnish.helpers import Stack
from tests.proxy import TcpProxy
from tests.varnish import cms_serve, installed, varnish


@pytest.fixture
async def stack(consumer_settings: SystemSettings, running_relay: RelayStarter) -> AsyncIterator[Stack]:
    if not installed():
        pytest.fail(
            "varnishd is missing: `make varnish` (part of `make test`) installs varnish and varnish-modules"
        )
    # Long shared-cache lifetimes: only a purge can make a changed page fresh within a test.
    env = {"CMS_DELIVERY_S_MAXAGE": "3600", "CMS_DELIVERY_MAX_AGE": "3600"}
    async with (
        cms_serve(consumer_settings.database_url, env) as backend,
        varnish(backend.port) as cache,
        TcpProxy("127.0.0.1", cache.port) as to_cache,
    ):
        settings = consumer_settings.model_copy(
            update={
                "purge_varnish_urls": [f"http://127.0.0.1:{to_cache.port}"],
                "purge_window": 0.02,
                "purge_backoff_max": 0.5,
                "purge_poll_interval": 0.2,
            }
        )
        async with (
            running_relay(),
            running_consumer(PURGE, settings) as purge_app,
            httpx2.AsyncClient(base_url=cache.url, timeout=10) as through_cache,
        ):
            yield Stack(backend, cache, to_cache, through_cache, purge_app, settings)
