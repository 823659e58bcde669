"""The purge consumer's settings: its store, its port, how it coalesces, and the caches it
purges (any of Varnish, Fastly and Cloudflare; none configured: it only records the keys)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from consumers.runtime.settings import ConsumerSettings


class PurgeSettings(ConsumerSettings):
    purge_database_url: str | None = Field(default=None, repr=False)
    purge_port: int = 8015
    # A burst of changes (a live blog, a story corrected twice in a second) becomes one purge
    # request per cache: the worker waits this long after the first key of a batch.
    purge_window: float = Field(default=0.05, ge=0, le=5, description="seconds keys are collected")
    purge_batch_keys: int = Field(default=1000, ge=1, le=100_000, description="keys taken per batch")
    purge_timeout: float = Field(default=5.0, gt=0, le=60, description="seconds for one purge request")
    purge_backoff_max: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="seconds: the longest pause before trying a failing cache again",
    )
    purge_poll_interval: float = Field(
        default=1.0, gt=0, le=60, description="seconds between looks when idle"
    )

    # Varnish: every node of the tier, e.g. ["http://10.0.0.5:6081"]; each gets the purge.
    purge_varnish_urls: list[str] = Field(default_factory=list)
    purge_varnish_method: Literal["xkey", "ban"] = Field(
        default="xkey",
        description="xkey: PURGE with xkey-purge (soft unless a kill); ban: BAN on the xkey header",
    )
    # Fastly: purge by surrogate key, soft unless a kill.
    purge_fastly_service_id: str | None = None
    purge_fastly_api_token: str | None = Field(default=None, repr=False)
    purge_fastly_url: str = "https://api.fastly.com"
    # Cloudflare: purge by cache tag (always hard: Cloudflare has no soft purge by tag).
    purge_cloudflare_zone_id: str | None = None
    purge_cloudflare_api_token: str | None = Field(default=None, repr=False)
    purge_cloudflare_url: str = "https://api.cloudflare.com"
    purge_cloudflare_tags_per_request: int = Field(
        default=30, ge=1, le=1000, description="tags per purge_cache call (the API's limit for the plan)"
    )
