"""The social consumer's settings: its store, its port, its channels and how links look."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from consumers.runtime.settings import ConsumerSettings


class SocialSettings(ConsumerSettings):
    social_database_url: str | None = Field(default=None, repr=False)
    social_port: int = 8012
    # Its channels as a JSON list (see consumers/social/channels.py; none: posts are composed
    # for every network and kept as `ready`), and how article links look.
    social_channels: list[dict[str, Any]] = Field(default_factory=list, repr=False)
    social_url_pattern: str = Field(
        default="/{section}/{slug}", description="path on CMS_PUBLIC_URL: {section} {slug} {id} {language}"
    )
    social_http_timeout: float = Field(default=10.0, gt=0, le=60, description="seconds per network call")
