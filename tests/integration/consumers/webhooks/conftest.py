"""The webhooks consumer's settings for one test (quick retries, 127.0.0.1 allowed)."""

from __future__ import annotations

import pytest

from cms.system import SystemSettings
from tests.integration.consumers.webhooks.helpers import quick


@pytest.fixture
def webhook_settings(consumer_settings: SystemSettings) -> SystemSettings:
    return quick(consumer_settings)
