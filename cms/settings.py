"""The content app's settings: the platform's, plus delivery, the event log and the relay."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from cms.feeds.settings import FeedSettings


class Settings(FeedSettings):
    delivery_max_age: int = Field(default=60, ge=0, description="Cache-Control max-age, seconds")
    event_retention: timedelta = timedelta(days=30)

    relay_port: int = Field(default=8001, description="health and metrics of `cms relay`")
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    # Memory follows bytes, not rows: a batch stops at this many payload bytes (at least one row).
    relay_batch_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1, description="payload bytes per batch, at most (at least one row)"
    )
    # RabbitMQ's `max_message_size` (its default is 128 MiB): a larger event is parked, not sent.
    relay_max_message_bytes: int = Field(
        default=128 * 1024 * 1024, ge=1, description="the broker's max_message_size; larger events are parked"
    )
    relay_poll_interval: float = Field(default=1.0, gt=0, description="seconds between polls when idle")
    relay_confirm_timeout: float = Field(default=30.0, gt=0)
    scheduler_interval: float = Field(default=1.0, gt=0)
    # Short: a closed tab or a crashed client blocks nobody for longer than this; clients renew.
    edit_lock_lease: timedelta = Field(
        default=timedelta(seconds=120),
        gt=timedelta(0),
        description="how long an edit lock lasts unless renewed",
    )
