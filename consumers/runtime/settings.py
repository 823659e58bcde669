"""What every consumer process adds to the platform's settings: how it takes and retries messages."""

from __future__ import annotations

from pydantic import Field

from cms.platform.settings import PlatformSettings


class ConsumerSettings(PlatformSettings):
    consumer_prefetch: int = Field(default=32, ge=1, le=1000)
    consumer_max_attempts: int = Field(default=5, ge=1, le=50, description="failures before the DLQ")
    consumer_retry_delays: tuple[float, ...] = Field(
        default=(1.0, 5.0, 30.0, 120.0), description="seconds before attempt 2, 3, ...; the last repeats"
    )
