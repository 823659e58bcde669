"""The ads configuration: slot layout, per-section overrides, targeting tables (a TOML file).

Validated by Pydantic at load, so a typo in the file stops the consumer at start instead of
failing every event. The shipped default is `data/layout.toml`; `CMS_ADS_LAYOUT_FILE` names
another.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_FILE = Path(__file__).parent / "data" / "layout.toml"

Size = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}x[1-9][0-9]{0,3}$")]
Key = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=60)]
FixedPosition = Literal["top", "sidebar", "bottom"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FixedSlot(_Strict):
    """A slot every article page has (unless its section's layout drops it)."""

    key: Key
    position: FixedPosition
    sizes: Annotated[list[Size], Field(min_length=1)]
    mobile_sizes: list[Size] = Field(default=[], description="on small screens; the same as `sizes` if empty")


class InArticle(_Strict):
    """Slots between paragraphs: after every `every` paragraphs, for articles of at least
    `min_words` words, at most `max` of them."""

    every: int = Field(ge=1)
    min_words: int = Field(ge=0)
    max: int = Field(ge=0, le=50)
    sizes: Annotated[list[Size], Field(min_length=1)]


class InArticlePatch(_Strict):
    every: int | None = Field(default=None, ge=1)
    min_words: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0, le=50)
    sizes: Annotated[list[Size] | None, Field(min_length=1)] = None


class Layout(_Strict):
    slots: list[FixedSlot]
    in_article: InArticle

    @model_validator(mode="after")
    def _unique_keys(self) -> Layout:
        keys = [slot.key for slot in self.slots]
        if len(keys) != len(set(keys)):
            raise ValueError("slot keys must be unique")
        if any(key.startswith("in-article") for key in keys):
            raise ValueError("slot keys starting with 'in-article' are reserved")
        return self


class SectionLayout(_Strict):
    """What a section changes: its own fixed slots (replacing the default ones) and/or
    some in-article rules."""

    slots: list[FixedSlot] | None = None
    in_article: InArticlePatch | None = None


class WordBucket(_Strict):
    name: Key
    min_words: int = Field(ge=0)


class Targeting(_Strict):
    # IAB Content Taxonomy unique ids by section slug; sections not listed get no category.
    iab_categories: dict[str, str] = {}
    word_buckets: Annotated[list[WordBucket], Field(min_length=1)]

    @model_validator(mode="after")
    def _buckets_start_at_zero(self) -> Targeting:
        starts = [bucket.min_words for bucket in self.word_buckets]
        if starts[0] != 0 or starts != sorted(set(starts)):
            raise ValueError("word buckets must start at 0 and rise strictly")
        return self


class AdsConfig(_Strict):
    layout: Layout
    sections: dict[str, SectionLayout] = {}
    targeting: Targeting

    def layout_for(self, section: str | None) -> Layout:
        override = self.sections.get(section or "")
        if override is None:
            return self.layout
        in_article = self.layout.in_article
        if override.in_article is not None:
            in_article = in_article.model_copy(update=override.in_article.model_dump(exclude_none=True))
        return Layout(
            slots=self.layout.slots if override.slots is None else override.slots, in_article=in_article
        )


def load(path: Path | None = None) -> AdsConfig:
    """The configuration in `path` (the shipped default without one)."""
    with (path or DEFAULT_FILE).open("rb") as file:
        return AdsConfig.model_validate(tomllib.load(file))
