"""The ads consumer: the ad slots every published page offers, with targeting and brand
safety, and the inventory API ad operations query."""

from __future__ import annotations

from pathlib import Path

from consumers.ads import api, handler
from consumers.runtime.http import Operation
from consumers.runtime.spec import ConsumerSpec, Store


def _operations(ads: Store) -> list[Operation]:
    handler.rules()  # a broken layout file stops the process at start, not every event later
    return api.operations(ads)


SPEC = ConsumerSpec(
    name="ads",
    schema="ads",
    migrations=Path(__file__).parent / "migrations",
    apply=handler.apply,
    store_url=lambda settings: settings.ads_database_url,
    port=lambda settings: settings.ads_port,
    operations=_operations,
)
