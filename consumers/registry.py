"""Every consumer this installation can run, by name."""

from __future__ import annotations

from consumers.ads import SPEC as ADS
from consumers.runtime.spec import ConsumerSpec
from consumers.search import SPEC as SEARCH
from consumers.social import SPEC as SOCIAL

CONSUMERS: dict[str, ConsumerSpec] = {spec.name: spec for spec in (SEARCH, SOCIAL, ADS)}
