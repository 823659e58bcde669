"""Configuration from `CMS_*` environment variables, with developer-machine defaults."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

ENV_PREFIX = "CMS_"


class ConfigurationError(ValueError):
    """An invalid setting. Its message names the setting and what is wrong, never the value:
    values hold passwords, tokens and URLs with credentials."""


def describe(exc: ValidationError, setting: str | None = None) -> str:
    """The errors of a validation as `CMS_NAME[1].field: what is wrong`, without input values.
    `setting` names the variable when `exc` comes from parsing one setting's value."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = [setting, *error["loc"]] if setting else list(error["loc"])
        name = f"{ENV_PREFIX}{str(loc[0]).upper()}" if loc else "settings"
        name += "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[1:])
        lines.append(f"{name}: {error['msg']}")
    return "; ".join(lines)


# Fields with repr=False may carry credentials (URLs with a password, channel tokens): they stay
# out of repr(), so out of tracebacks and log lines that print the settings.
class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, hide_input_in_errors=True
    )

    database_url: str = Field(default="postgresql:///cms", repr=False)
    # A read replica for delivery and search reads; unreachable → those reads use the primary.
    database_replica_url: str | None = Field(default=None, repr=False)
    database_connect_timeout: float = Field(default=5.0, gt=0)
    amqp_url: str = Field(default="amqp://guest:guest@localhost:5672/", repr=False)
    amqp_prefix: str = "cms"
    public_url: str = "http://127.0.0.1:8000"

    host: str = "127.0.0.1"
    port: int = 8000
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "info"

    pool_min_size: int = Field(default=2, ge=1)
    pool_max_size: int = Field(default=10, ge=1)
    # An idle transaction holds back every xmin-based reader (the relay among them).
    idle_in_transaction_timeout: timedelta = timedelta(seconds=30)
    statement_timeout: timedelta = timedelta(seconds=30)

    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
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

    # Consumers: each has its own store (a schema, in the main database unless moved) and port.
    search_database_url: str | None = Field(default=None, repr=False)
    social_database_url: str | None = Field(default=None, repr=False)
    ads_database_url: str | None = Field(default=None, repr=False)
    search_port: int = 8011
    # Public search: one request may hold the database this long (then 503 with Retry-After),
    # and ranks at most this many of the newest matching articles.
    search_statement_timeout: timedelta = Field(default=timedelta(seconds=2), gt=timedelta(0))
    search_max_candidates: int = Field(default=1000, ge=100, le=100_000)
    social_port: int = 8012
    ads_port: int = 8013
    ads_layout_file: Path | None = Field(
        default=None, description="TOML slot layout and targeting tables; the shipped default if unset"
    )
    consumer_prefetch: int = Field(default=32, ge=1, le=1000)
    consumer_max_attempts: int = Field(default=5, ge=1, le=50, description="failures before the DLQ")
    consumer_retry_delays: tuple[float, ...] = Field(
        default=(1.0, 5.0, 30.0, 120.0), description="seconds before attempt 2, 3, ...; the last repeats"
    )

    # The social consumer: its channels as a JSON list (see consumers/social/channels.py; none:
    # posts are composed for every network and kept as `ready`), and how article links look.
    social_channels: list[dict[str, Any]] = Field(default_factory=list, repr=False)
    social_url_pattern: str = Field(
        default="/{section}/{slug}", description="path on CMS_PUBLIC_URL: {section} {slug} {id} {language}"
    )
    social_http_timeout: float = Field(default=10.0, gt=0, le=60, description="seconds per network call")

    @property
    def exchange(self) -> str:
        return f"{self.amqp_prefix}.events"


def load() -> Settings:
    """The settings from the environment, or a ConfigurationError that names what is wrong."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe(exc)) from None
    except SettingsError as exc:  # a value that is not the JSON a list or dict setting needs
        cause = exc.__cause__
        where = f" ({cause.msg} at character {cause.pos})" if isinstance(cause, json.JSONDecodeError) else ""
        raise ConfigurationError(f"{exc}{where}") from None
