"""The ads consumer: the ad slots every published page offers, with targeting and brand
safety, and the inventory API ad operations query."""

from __future__ import annotations

from pathlib import Path

from consumers.ads import api
from consumers.ads.handler import Ads
from consumers.runtime.http import Operation
from consumers.runtime.spec import ConsumerSpec, Store


def build(ads: Ads | None = None) -> ConsumerSpec:
    wiring = ads or Ads()

    def operations(holder: Store) -> list[Operation]:
        wiring.rules()  # a broken layout file stops the process at start, not every event later
        return api.operations(holder)

    return ConsumerSpec(
        name="ads",
        schema="ads",
        migrations=Path(__file__).parent / "migrations",
        apply=wiring.apply,
        store_url=lambda settings: settings.ads_database_url,
        port=lambda settings: settings.ads_port,
        operations=operations,
    )


SPEC = build()
