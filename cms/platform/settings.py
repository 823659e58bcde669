"""Configuration from `CMS_*` environment variables, with developer-machine defaults: what every
process needs (database, broker, HTTP, logging). Each app and consumer adds its own settings in a
subclass of its own, read where that part is built."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Literal, TypeVar

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
class PlatformSettings(BaseSettings):
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

    # Browser sessions: a working day, and an hour without a request ends one.
    session_idle_timeout: timedelta = Field(default=timedelta(hours=1), gt=timedelta(0))
    session_absolute_timeout: timedelta = Field(default=timedelta(hours=12), gt=timedelta(0))
    # Sign-in throttling. Failures count within a window after the last one; past the free ones,
    # each further failure doubles the wait (from one second) up to the scope's maximum.
    login_window: timedelta = Field(default=timedelta(minutes=15), gt=timedelta(0))
    login_pair_free: int = Field(default=5, ge=1, description="failures per account and address")
    login_address_free: int = Field(default=50, ge=1, description="failures per address, any account")
    login_account_free: int = Field(default=20, ge=1, description="failures per account, any address")
    login_max_delay: timedelta = Field(default=timedelta(minutes=15), gt=timedelta(0))
    # Bounded low: an attacker spread over many addresses slows the real user, never locks them out.
    login_account_max_delay: timedelta = Field(default=timedelta(minutes=1), gt=timedelta(0))
    # argon2 takes ~64 MiB and tens of milliseconds per hash: at most this many at once per process.
    password_hash_concurrency: int = Field(default=2, ge=1)
    # What start-up built (modules, routes, models, pools) lives as long as the process: frozen
    # out of the cyclic collector, whose full collections then stop walking it on a request's time.
    gc_freeze_after_startup: bool = True

    @property
    def exchange(self) -> str:
        return f"{self.amqp_prefix}.events"


S = TypeVar("S", bound=PlatformSettings)


def load(kind: type[S], **given: Any) -> S:
    """Settings of `kind` from the environment (what is `given` wins), or a ConfigurationError
    that names what is wrong."""
    try:
        return kind(**given)
    except ValidationError as exc:
        raise ConfigurationError(describe(exc)) from None
    except SettingsError as exc:  # a value that is not the JSON a list or dict setting needs
        cause = exc.__cause__
        where = f" ({cause.msg} at character {cause.pos})" if isinstance(cause, json.JSONDecodeError) else ""
        raise ConfigurationError(f"{exc}{where}") from None
