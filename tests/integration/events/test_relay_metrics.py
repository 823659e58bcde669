"""The relay's figures: the real backlog and its age, and failures counted by their real kind."""

from __future__ import annotations

import asyncpg
import httpx2
from prometheus_client import CollectorRegistry

from cms import processes
from cms.platform.application import create_ops_app
from cms.system import SystemSettings
from tests.helpers import create_draft, eventually, free_port
from tests.integration.events.helpers import EventTap, RelayStarter


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_while_the_broker_is_down_the_backlog_and_its_age_are_exported_and_failures_count_as_broker(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """The documented alert can fire: unsent rows and the oldest one's age, not a constant 0."""
    for n in range(3):
        await create_draft(api, token["editor"], title=f"Meldung {n}")
    await db.execute("UPDATE outbox SET created_at = now() - interval '1 hour' WHERE sequence = 1")
    registry = CollectorRegistry()
    nobody = f"amqp://guest:guest@127.0.0.1:{free_port()}/"

    async with running_relay(registry=registry, amqp_url=nobody):
        await eventually(lambda: _at_least(registry, "cms_relay_failures_total", 2, kind="broker"), within=10)

    assert _sample(registry, "cms_relay_backlog") == 3
    assert 3600 <= _sample(registry, "cms_relay_oldest_unsent_seconds") < 3700
    assert _sample(registry, "cms_relay_parked_rows") == 0
    assert _sample(registry, "cms_relay_failures_total", kind="database") == 0
    assert _sample(registry, "cms_relay_failures_total", kind="unexpected") == 0
    assert _sample(registry, "cms_relay_published_total") == 0


async def test_a_database_that_cannot_be_reached_counts_as_database_not_broker(
    settings: SystemSettings, running_relay: RelayStarter
) -> None:
    """A refused database connection is a database failure, whatever Python type it shares."""
    registry = CollectorRegistry()
    nowhere = settings.database_url.replace("127.0.0.1:5432", f"127.0.0.1:{free_port()}")

    async with running_relay(registry=registry, database_url=nowhere):
        await eventually(
            lambda: _at_least(registry, "cms_relay_failures_total", 1, kind="database"), within=10
        )

    assert _sample(registry, "cms_relay_failures_total", kind="broker") == 0
    assert _sample(registry, "cms_relay_failures_total", kind="unexpected") == 0


async def test_the_backlog_falls_to_zero_once_published_and_counts_rows_written_meanwhile(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    tap: EventTap,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """After the relay caught up, backlog and age read 0 (parked rows are counted apart)."""
    for n in range(4):
        await create_draft(api, token["editor"], title=f"Meldung {n}")
    await db.execute("UPDATE outbox SET correlation_id = repeat('x', 300) WHERE sequence = 2")
    registry = CollectorRegistry()

    async with running_relay(registry=registry):
        await tap.take(3)
        await eventually(lambda: _equals(registry, "cms_relay_parked_rows", 1), within=5)
        await eventually(lambda: _equals(registry, "cms_relay_backlog", 0), within=5)

    assert _sample(registry, "cms_relay_oldest_unsent_seconds") == 0
    assert _sample(registry, "cms_relay_published_total") == 3


async def test_metrics_of_the_relay_process_show_the_backlog_and_every_failure_kind(
    api: httpx2.AsyncClient, token: dict[str, str], event_settings: SystemSettings
) -> None:
    """`/metrics` of `cms relay` serves the real backlog (here: an event no queue takes yet)."""
    await create_draft(api, token["editor"])
    application = create_ops_app(event_settings, processes.relay(event_settings), name="cms-relay")

    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://relay.test") as client:

            async def backlog_shown() -> bool:
                return "\ncms_relay_backlog 1.0\n" in (await client.get("/metrics")).text

            await eventually(backlog_shown, within=10)
            text = (await client.get("/metrics")).text

    for series in (
        "cms_relay_oldest_unsent_seconds ",
        "cms_relay_parked_rows 0.0",
        "cms_relay_parked_total 0.0",
        'cms_relay_failures_total{kind="parked"} 0.0',
        'cms_relay_failures_total{kind="database"} 0.0',
        'cms_relay_failures_total{kind="unexpected"} 0.0',
    ):
        assert series in text, series


async def _at_least(registry: CollectorRegistry, name: str, value: float, **labels: str) -> bool:
    return _sample(registry, name, **labels) >= value


async def _equals(registry: CollectorRegistry, name: str, value: float) -> bool:
    return _sample(registry, name) == value
