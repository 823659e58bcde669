"""Issue 16's proof: a real receiver down for 60 s in the middle of 200 publishes loses nothing,
gets no webhook-id twice as a new delivery, and sees each article's versions in order."""

from __future__ import annotations

import httpx2
import pytest

from cms.system import SystemSettings
from tests.integration.consumers.webhooks import experiment
from tests.integration.consumers.webhooks.helpers import running_webhooks, subscribe
from tests.integration.consumers.webhooks.receiver import receiving
from tests.integration.events.helpers import RelayStarter


@pytest.mark.timeout(280)
async def test_a_receiver_down_for_60_s_during_200_publishes_loses_nothing_in_order(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    webhook_settings: SystemSettings,
    running_relay: RelayStarter,
) -> None:
    """200 events, receiver cut off mid-request and down 60 s: every one arrives, verified, once
    as a new delivery (only unanswered ones again, same id), per article in version order, and
    the backlog is delivered within seconds of the receiver's return."""
    settings = webhook_settings.model_copy(update={"webhooks_backoff_max": 5.0, "webhooks_timeout": 2.0})
    async with running_relay(), receiving() as receiver, running_webhooks(settings) as hooks:
        created = await subscribe(
            hooks, token["admin"], receiver.url, event_types=["cms.article.published", "cms.article.updated"]
        )
        receiver.secrets = [created["secret"]]
        result = await experiment.run(api, token, receiver, articles=40, rounds=5, outage=60.0)

    assert result.expected == 200
    assert result.outage_seconds >= 60.0
    assert result.lost == 0
    assert result.duplicates_as_new == 0
    assert result.out_of_order == 0
    assert result.unverified == 0
    assert result.redelivered_after_lost_answer >= 1  # the cut-off requests came again, same id
    assert result.received_ids == 200
    assert result.drained_after_recovery < 15.0
