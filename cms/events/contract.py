"""The event contract: the CloudEvents envelope and the article it carries.

This is the one module consumers import from the CMS. It holds data shapes only, so it
can be read (and generated into JSON Schemas) without the rest of the application.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SOURCE: Literal["/cms"] = "/cms"
DATA_SCHEMA = "urn:newsroom-cms:schema:article:1"

# AMQP headers of the events `cms events resync` sends: every one carries the run's id, the
# last one also RESYNC_LAST, the number of events the run sent, so that a consumer rebuilding
# from a resync knows when it has every article, whatever order they arrive in (see
# `cms-consumer search rebuild`). Other consumers ignore them.
RESYNC_RUN = "x-cms-resync"
RESYNC_LAST = "x-cms-resync-last"

# `killed`: taken down for legal reasons; never live, and only an admin brings it back.
Status = Literal["draft", "in_review", "scheduled", "published", "unpublished", "killed"]
EventKind = Literal["created", "updated", "published", "unpublished", "deleted", "corrected", "killed"]
EventType = Literal[
    "cms.article.created",
    "cms.article.updated",
    "cms.article.published",
    "cms.article.unpublished",
    "cms.article.deleted",
    "cms.article.corrected",
    "cms.article.killed",
]
EVENT_TYPES: tuple[EventType, ...] = (
    "cms.article.created",
    "cms.article.updated",
    "cms.article.published",
    "cms.article.unpublished",
    "cms.article.deleted",
    "cms.article.corrected",
    "cms.article.killed",
)


# Which texts carry HTML and which are plain is part of the contract: a renderer inserts the
# first as markup and must escape the second.
_INLINE_HTML = "inline HTML, sanitised to b, i, em, strong, a[href], br"
_PLAIN = "plain text: no markup (escape it when rendering)"
_URL = "an absolute http(s) URL with a host, without credentials"


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Paragraph(_Block):
    type: Literal["paragraph"] = "paragraph"
    text: str = Field(description=_INLINE_HTML)


class Heading(_Block):
    type: Literal["heading"] = "heading"
    text: str = Field(description=_INLINE_HTML)
    level: int = Field(ge=2, le=4)


class Quote(_Block):
    type: Literal["quote"] = "quote"
    text: str = Field(description=_INLINE_HTML)
    attribution: str | None = Field(default=None, description=_PLAIN)


class ListBlock(_Block):
    type: Literal["list"] = "list"
    items: list[str] = Field(description=f"each item {_INLINE_HTML}")
    ordered: bool = False


class Image(_Block):
    type: Literal["image"] = "image"
    url: str = Field(description=_URL)
    alt: str = Field(description=_PLAIN)
    caption: str | None = Field(default=None, description=_INLINE_HTML)
    credit: str | None = Field(default=None, description=_PLAIN)


class Embed(_Block):
    type: Literal["embed"] = "embed"
    url: str = Field(description=_URL)


Block = Annotated[Paragraph | Heading | Quote | ListBlock | Image | Embed, Field(discriminator="type")]


class Correction(BaseModel):
    """A dated correction note on a published article; notes are only ever added."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(description="stable: consumers act on each correction once (e.g. one reply)")
    note: str = Field(description=_PLAIN)
    at: datetime
    by: str = Field(description="who recorded it (the token holder's name); not shown on delivery")


class Article(BaseModel):
    """The whole article at one version, as the admin API shows it."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    slug: str
    language: str
    title: str = Field(description=_PLAIN)
    lead: str = Field(description=_PLAIN)
    body: list[Block]
    section: str | None
    tags: list[str]
    authors: list[str] = Field(description=f"bylines, {_PLAIN}")
    related: list[uuid.UUID]
    post_to_social: bool = Field(
        default=True,
        description="false: social networks get no new post for it (e.g. an archive moved in); "
        "what was already posted stays",
    )
    corrections: list[Correction] = Field(default_factory=list, description="oldest first")
    status: Status
    publish_at: datetime | None
    unpublish_at: datetime | None
    published_at: datetime | None
    first_published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    killed_at: datetime | None = Field(
        default=None, description="when it was killed (legal takedown): drop every copy of it"
    )
    owner: str = Field(description="who created it (the token holder's name)")
    version: int = Field(ge=1)


def is_live(article: Article) -> bool:
    """Whether readers see the article at this version: the one rule every consumer follows
    (index it, post it, offer its ad slots) rather than a copy of its own."""
    return article.status == "published" and article.deleted_at is None and article.published_at is not None


class ArticleEvent(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode, carrying the article at `articleversion`."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(description="stable across redeliveries: the deduplication key")
    source: Literal["/cms"] = SOURCE
    type: EventType
    subject: str = Field(description="the article id")
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str = DATA_SCHEMA
    sequence: str = Field(pattern=r"^[0-9]+$", description="outbox row number, as a string")
    articleversion: int = Field(ge=1)
    actor: str | None = Field(
        default=None,
        description="who made the change: a person's email, a machine's name, `system:scheduler`; "
        "absent on resyncs and on events written before it existed",
    )
    data: Article


def routing_key(event_type: str) -> str:
    """`cms.article.published` is published with the routing key `article.published`."""
    return event_type.removeprefix("cms.")


def envelope(
    kind: EventKind,
    article: Article,
    *,
    event_id: uuid.UUID,
    time: datetime,
    data: dict[str, Any] | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """The event as stored in the outbox: everything but `sequence`, known only at insert.
    `data`: the article already dumped as JSON, when the caller has it. `actor`: the CloudEvents
    extension attribute naming who made the change."""
    extensions = {} if actor is None else {"actor": actor}
    return {
        "specversion": "1.0",
        "id": str(event_id),
        "source": SOURCE,
        "type": f"cms.article.{kind}",
        "subject": str(article.id),
        "time": time.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "dataschema": DATA_SCHEMA,
        "articleversion": article.version,
        **extensions,
        "data": data if data is not None else article.model_dump(mode="json"),
    }
