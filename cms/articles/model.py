"""What editors send: create and update bodies, validated and sanitised on the way in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from cms.articles.text import check_plain, check_url, sanitize_inline
from cms.events.contract import Block, Embed, Heading, Image, ListBlock, Paragraph, Quote

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# BCP 47, the common shapes: de, en-GB, zh-Hant, sr-Latn-RS.
LANGUAGE_PATTERN = r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$"

Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=120)]
Language = Annotated[str, Field(pattern=LANGUAGE_PATTERN, max_length=35)]
# Fields that carry inline HTML (sanitised): the text of paragraphs, headings and quotes, list
# items and image captions. Every other text is plain: markup there is refused, not guessed at.
PlainText = Annotated[str, AfterValidator(check_plain), Field(max_length=2000)]
Title = Annotated[
    str, AfterValidator(str.strip), AfterValidator(check_plain), Field(min_length=1, max_length=300)
]
Byline = Annotated[
    str, AfterValidator(str.strip), AfterValidator(check_plain), Field(min_length=1, max_length=200)
]


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def sanitize_block(block: Block) -> Block:
    """The same block with its inline HTML reduced to the allowed subset."""
    match block:
        case Paragraph() | Heading():
            return block.model_copy(update={"text": sanitize_inline(block.text)})
        case Quote():
            return block.model_copy(update={"text": sanitize_inline(block.text)})
        case ListBlock():
            return block.model_copy(update={"items": [sanitize_inline(i) for i in block.items]})
        case Image() if block.caption is not None:
            return block.model_copy(update={"caption": sanitize_inline(block.caption)})
    return block


def _check_block(block: Block) -> Block:
    """URLs parsed (http/https, a host, nothing that breaks out of an attribute or a header) and
    the plain-text fields of images and quotes free of markup."""
    match block:
        case Image():
            check_url(block.url)
            for text in (block.alt, block.credit):
                if text is not None:
                    check_plain(text)
        case Embed():
            check_url(block.url)
        case Quote() if block.attribution is not None:
            check_plain(block.attribution)
    return block


Body = Annotated[list[Annotated[Block, AfterValidator(_check_block)]], Field(max_length=1000)]


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("body", check_fields=False)
    @classmethod
    def _sanitize(cls, body: list[Block] | None) -> list[Block] | None:
        return None if body is None else [sanitize_block(b) for b in body]

    @field_validator("tags", "related", check_fields=False)
    @classmethod
    def _dedupe(cls, values: list[Any] | None) -> list[Any] | None:
        return None if values is None else _unique(values)


class ArticleCreate(_Fields):
    title: Title
    language: Language
    slug: Slug | None = None
    lead: PlainText = ""
    body: Body = []
    section: Slug | None = None
    tags: Annotated[list[Slug], Field(max_length=50)] = []
    authors: Annotated[list[Byline], Field(max_length=20)] = []
    related: Annotated[list[uuid.UUID], Field(max_length=50)] = []
    post_to_social: bool = True


class ArticleUpdate(_Fields):
    """Partial: only the fields present change; `section: null` clears the section."""

    title: Title | None = None
    language: Language | None = None
    slug: Slug | None = None
    lead: PlainText | None = None
    body: Body | None = None
    section: Slug | None = None
    tags: Annotated[list[Slug], Field(max_length=50)] | None = None
    authors: Annotated[list[Byline], Field(max_length=20)] | None = None
    related: Annotated[list[uuid.UUID], Field(max_length=50)] | None = None
    post_to_social: bool | None = None

    @field_validator(
        "title", "language", "slug", "lead", "body", "tags", "authors", "related", "post_to_social"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


def _in_utc(value: datetime) -> datetime:
    """As it is stored: in UTC, where an offset can push year 1 or 9999 off the calendar."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("in UTC this time falls outside the years 1 to 9999") from None


ScheduleTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    publish_at: ScheduleTime | None = Field(
        default=None, description="in the future: schedule (embargo); absent or past: publish now"
    )


class UnpublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unpublish_at: ScheduleTime | None = Field(
        default=None, description="in the future: stay live until then; absent or past: now"
    )


# Shown to readers under the article: plain text, one note, not an essay.
CorrectionNote = Annotated[
    str, AfterValidator(str.strip), AfterValidator(check_plain), Field(min_length=1, max_length=1000)
]
# A legal record for the newsroom, never shown publicly.
TakedownReason = Annotated[
    str, AfterValidator(str.strip), AfterValidator(check_plain), Field(min_length=1, max_length=2000)
]


class CorrectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: CorrectionNote = Field(description="the correction as readers see it, plain text")


class KillRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: TakedownReason = Field(description="why it is taken down; kept on record, never public")


class RestoreKilledRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: TakedownReason = Field(description="why the takedown is lifted; kept on record")
