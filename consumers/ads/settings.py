"""The ads consumer's settings: its store, its port and its slot layout."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from consumers.runtime.settings import ConsumerSettings


class AdsSettings(ConsumerSettings):
    ads_database_url: str | None = Field(default=None, repr=False)
    ads_port: int = 8013
    ads_layout_file: Path | None = Field(
        default=None, description="TOML slot layout and targeting tables; the shipped default if unset"
    )
