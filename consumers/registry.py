"""Every consumer this installation can run, by name."""

from __future__ import annotations

from typing import Any

from consumers.ads import SPEC as ADS
from consumers.purge import SPEC as PURGE
from consumers.runtime.spec import ConsumerSpec
from consumers.search import SPEC as SEARCH
from consumers.social import SPEC as SOCIAL
from consumers.webhooks import SPEC as WEBHOOKS

CONSUMERS: dict[str, ConsumerSpec[Any]] = {spec.name: spec for spec in (SEARCH, SOCIAL, ADS, WEBHOOKS, PURGE)}
