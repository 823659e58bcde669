"""Which event a resync sends for an article as it is now."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from cms.articles import workflow
from cms.events.contract import Article, EventKind, Status
from cms.events.replay import state_kind

T0 = datetime(2022, 5, 19, 9, 0, tzinfo=UTC)


def _at(status: Status, **fields: object) -> Article:
    given: dict[str, object] = {"title": "T", "language": "de", "slug": "t", "lead": "", "body": []}
    given |= {"section": None, "tags": [], "authors": [], "related": []}
    draft = workflow.new_draft(given, article_id=uuid.uuid4(), owner="aurelia", now=T0)
    return draft.model_copy(update={"status": status, **fields})


@pytest.mark.parametrize(
    ("status", "kind"),
    [("published", "published"), ("unpublished", "unpublished"), ("killed", "killed"), ("draft", "updated")],
)
def test_a_resync_tells_a_killed_article_as_killed(status: Status, kind: EventKind) -> None:
    """A resync sends `killed` for a killed article, so a rebuilt store drops every copy of it."""
    assert state_kind(_at(status)) == kind


def test_a_deleted_article_is_deleted_whatever_its_status() -> None:
    """Deletion wins over status in a resync: a deleted killed article is sent as deleted."""
    assert state_kind(_at("killed", deleted_at=T0)) == "deleted"
