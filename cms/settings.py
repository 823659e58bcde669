"""The content app's settings: the platform's, plus delivery, the event log and the relay."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator

from cms.feeds.settings import FeedSettings


class Settings(FeedSettings):
    delivery_max_age: int = Field(default=60, ge=0, description="Cache-Control max-age, seconds")
    # Shared caches (Varnish, a CDN) are purged by surrogate key when a story changes, so they may
    # keep an answer longer than browsers, which nobody purges. Equal by default: raise it once
    # purging runs.
    delivery_s_maxage: int = Field(default=60, ge=0, description="Cache-Control s-maxage, seconds")
    delivery_stale_while_revalidate: int = Field(
        default=300, ge=0, description="Cache-Control stale-while-revalidate, seconds"
    )
    delivery_stale_if_error: int = Field(
        default=86400, ge=0, description="Cache-Control stale-if-error, seconds"
    )
    event_retention: timedelta = timedelta(days=30)

    # The in-process cache of the hottest delivery answers (article by slug, first list pages),
    # invalidated by this process's own subscription to the events. Off by default: it is only
    # as fresh as the events, so it needs the relay running (`cms up`, or `cms relay`).
    delivery_cache_enabled: bool = False
    delivery_cache_max_entries: int = Field(default=1000, ge=1, description="answers held, at most")
    delivery_cache_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="bytes of answers (bodies and headers) held, at most"
    )
    # The bound on staleness when events stop flowing while the subscription is up (relay down).
    delivery_cache_ttl: float = Field(default=30.0, gt=0, description="seconds an answer is kept, at most")
    # A read replica may still show the old article when the event arrives: for this long after
    # a change, answers depending on it are passed on but not stored.
    delivery_cache_settle: float = Field(
        default=1.0, ge=0, description="seconds after a change before its answers are cached again"
    )
    # How soon a broker that went silent (no close, no reset) stops the cache.
    delivery_cache_heartbeat: int = Field(
        default=5, ge=1, le=60, description="AMQP heartbeat of the cache's subscription, seconds"
    )

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

    # Preview links: how long one lives when the editor does not say, and at most.
    preview_default_ttl: timedelta = Field(
        default=timedelta(days=2), gt=timedelta(0), description="a preview link's life when none is asked"
    )
    preview_max_ttl: timedelta = Field(
        default=timedelta(days=14), gt=timedelta(0), description="the longest life a preview link may ask for"
    )

    # Where the consumers' HTTP faces are, for "where is it live". Unset: this API's own address
    # (CMS_HOST and CMS_PORT), where `cms up` serves everything. Not CMS_PUBLIC_URL: that is the
    # readers' site, and the caller's bearer token is forwarded to these URLs.
    search_url: str | None = None
    social_url: str | None = None
    ads_url: str | None = None
    distribution_timeout: float = Field(
        default=1.0, gt=0, le=30, description="seconds a consumer has to answer a distribution query"
    )
    # Sent to the consumers instead of the caller's own Authorization, when set.
    distribution_token: str | None = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _preview_default_within_max(self) -> Settings:
        if self.preview_default_ttl > self.preview_max_ttl:
            raise ValueError("preview_default_ttl must not exceed preview_max_ttl")
        return self

    def consumer_url(self, name: str) -> str:
        """The base URL of consumer `name` (search, social, ads), without a trailing slash."""
        given = {"search": self.search_url, "social": self.social_url, "ads": self.ads_url}[name]
        if given:
            return given.rstrip("/")
        host = _LOOPBACK.get(self.host, self.host)
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"


# A wildcard bind address is reached on the loopback of the same family.
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}  # noqa: S104 (maps, binds nothing)
