"""The channels posts go to, from `CMS_SOCIAL_CHANNELS` (a JSON list), e.g.

    [{"name": "mastodon", "kind": "mastodon", "mode": "auto",
      "url": "https://mastodon.social", "token": "..."},
     {"name": "bluesky", "kind": "bluesky", "mode": "review",
      "url": "https://bsky.social", "identifier": "newsroom.example", "password": "app-password"},
     {"name": "bridge", "kind": "webhook", "url": "https://bridge.example/hook", "secret": "whsec_..."}]

A channel without `url` composes posts and keeps them `ready`, sending nothing. With no channel
configured at all, there is one such channel per network, so editors still see the posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError, model_validator

from cms.platform.settings import ConfigurationError, describe
from consumers.social import counting
from consumers.social.bluesky import Bluesky
from consumers.social.counting import Profile
from consumers.social.mastodon import Mastodon
from consumers.social.remote import Adapter
from consumers.social.settings import SocialSettings
from consumers.social.webhook import Webhook

Kind = Literal["mastodon", "bluesky", "webhook"]
Mode = Literal["auto", "review"]


class ChannelConfig(BaseModel):
    # Errors must never echo a channel's settings: they hold tokens and passwords.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    name: str = Field(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$", max_length=64)
    kind: Kind
    mode: Mode = "auto"
    url: str | None = Field(default=None, description="instance, PDS or webhook endpoint")
    token: SecretStr | None = None
    identifier: str | None = None
    password: SecretStr | None = None
    secret: SecretStr | None = None
    limit: int | None = Field(default=None, ge=50, description="Mastodon: this instance's limit")
    visibility: Literal["public", "unlisted", "private"] = "public"
    web_url: str = "https://bsky.app"

    @model_validator(mode="after")
    def _credentials(self) -> ChannelConfig:
        needed = {"mastodon": ("token",), "bluesky": ("identifier", "password"), "webhook": ("secret",)}
        if self.url is not None:
            missing = [name for name in needed[self.kind] if getattr(self, name) is None]
            if missing:
                raise ValueError(f"channel {self.name!r} ({self.kind}) needs {', '.join(missing)}")
        return self


@dataclass(frozen=True)
class Channel:
    name: str
    kind: Kind
    mode: Mode
    profile: Profile
    adapter: Adapter | None  # None: compose only

    @property
    def sends(self) -> bool:
        return self.adapter is not None

    @property
    def auto(self) -> bool:
        return self.sends and self.mode == "auto"


DEFAULTS: list[dict[str, Any]] = [
    {"name": "mastodon", "kind": "mastodon"},
    {"name": "bluesky", "kind": "bluesky"},
    {"name": "webhook", "kind": "webhook"},
]


_CONFIGS = TypeAdapter(list[ChannelConfig])


def configured(settings: SocialSettings) -> list[Channel]:
    raw = settings.social_channels or DEFAULTS
    try:
        configs = _CONFIGS.validate_python(raw)
    except ValidationError as exc:
        raise ConfigurationError(describe(exc, setting="social_channels")) from None
    names = [config.name for config in configs]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"CMS_SOCIAL_CHANNELS: channel names must be unique: {names}")
    return [channel_of(config, settings.social_http_timeout) for config in configs]


def channel_of(config: ChannelConfig, timeout: float) -> Channel:
    profile = {
        "mastodon": counting.mastodon(config.limit or 500),
        "bluesky": counting.BLUESKY,
        "webhook": counting.X_STYLE,
    }[config.kind]
    return Channel(config.name, config.kind, config.mode, profile, _adapter(config, timeout))


def _adapter(config: ChannelConfig, timeout: float) -> Adapter | None:
    if config.url is None:
        return None
    match config.kind:
        case "mastodon":
            assert config.token is not None
            return Mastodon(config.url, config.token.get_secret_value(), config.visibility, timeout)
        case "bluesky":
            assert config.identifier is not None
            assert config.password is not None
            return Bluesky(
                config.url, config.identifier, config.password.get_secret_value(), config.web_url, timeout
            )
        case "webhook":
            assert config.secret is not None
            return Webhook(config.url, config.secret.get_secret_value(), timeout)
