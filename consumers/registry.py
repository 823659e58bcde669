"""Every consumer this installation can run, by name."""

from __future__ import annotations

from consumers.runtime.spec import ConsumerSpec
from consumers.search import SPEC as SEARCH

CONSUMERS: dict[str, ConsumerSpec] = {spec.name: spec for spec in (SEARCH,)}
