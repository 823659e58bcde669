"""The webhooks consumer's settings: its store, its port, and how it delivers (timeouts, retries,
which addresses it may reach)."""

from __future__ import annotations

from pydantic import Field

from consumers.runtime.settings import ConsumerSettings


class WebhooksSettings(ConsumerSettings):
    webhooks_database_url: str | None = Field(default=None, repr=False)
    webhooks_port: int = 8014
    webhooks_timeout: float = Field(
        default=10.0, gt=0, le=120, description="seconds for one delivery attempt, connect to last byte"
    )
    webhooks_retry_window: float = Field(
        default=86_400.0,
        gt=0,
        description="seconds a delivery is retried before its subscription is disabled",
    )
    webhooks_backoff_initial: float = Field(default=2.0, gt=0, description="seconds: the first retry's scale")
    webhooks_backoff_max: float = Field(default=3_600.0, gt=0, description="seconds: the longest pause")
    webhooks_retry_after_max: float = Field(
        default=3_600.0, ge=0, description="seconds: the longest Retry-After honoured"
    )
    webhooks_concurrency: int = Field(
        default=4, ge=1, le=64, description="requests in flight per subscription (each a different article)"
    )
    webhooks_allowed_networks: list[str] = Field(
        default_factory=list,
        description="CIDRs a target may resolve to although private (e.g. an in-cluster receiver)",
    )
    webhooks_response_cap: int = Field(
        default=2_048, ge=0, le=65_536, description="bytes of a receiver's answer read and kept"
    )
    webhooks_log_attempts: int = Field(
        default=1_000, ge=10, description="attempts kept in each subscription's delivery log"
    )
    webhooks_retention: float = Field(
        default=604_800.0, gt=0, description="seconds events are kept for replay (and delivered ones logged)"
    )
    webhooks_secret_overlap: float = Field(
        default=86_400.0, ge=0, le=604_800, description="seconds the old secret still signs after a rotation"
    )
    webhooks_poll_interval: float = Field(
        default=1.0, gt=0, le=60, description="seconds between looks for due work"
    )
    webhooks_resolve_timeout: float = Field(
        default=5.0, gt=0, le=30, description="seconds to resolve a target"
    )
