"""The ads consumer: the ad slots every published page offers, with targeting and brand
safety, and the inventory API ad operations query."""

from __future__ import annotations

from pathlib import Path

from consumers.ads import api, handler
from consumers.ads.settings import AdsSettings
from consumers.runtime.spec import Bound, ConsumerSpec


def _bind(settings: AdsSettings) -> Bound:
    # Loaded here: a broken layout file stops the process at start, not every event later.
    ads = handler.Ads(handler.rules(settings))
    return Bound(ads.apply, api.operations)


SPEC = ConsumerSpec(
    name="ads",
    schema="ads",
    migrations=Path(__file__).parent / "migrations",
    settings_class=AdsSettings,
    bind=_bind,
    store_url=lambda settings: settings.ads_database_url,
    port=lambda settings: settings.ads_port,
)
