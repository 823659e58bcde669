"""Where a channel's post goes next: every transition of the social lifecycle, as a table."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from consumers.social.lifecycle import Plan, plan
from consumers.social.store import Post

NOW = datetime(2026, 11, 20, tzinfo=UTC)
POST = Post(
    id=uuid.uuid4(),
    article_id=uuid.uuid4(),
    channel="mastodon",
    status="ready",
    text="Titel https://z.example/a",
    edited_by=None,
    link_url="https://z.example/a",
    card_title="Titel",
    card_description="",
    language="de",
    published_at=NOW,
    generation=1,
    idempotency_key="k",
    remote_id=None,
    remote_url=None,
    attempts=0,
    last_error=None,
    maybe_sent=False,
    retry_at=None,
    article_live=True,
    article_version=2,
    first_attempt_at=None,
    created_at=NOW,
    updated_at=NOW,
    sent_at=None,
    retracted_at=None,
)


@pytest.mark.parametrize(
    ("status", "remote_id", "maybe_sent", "live", "expected"),
    [
        ("retracted", None, False, True, Plan.RENEW),  # published again after a retraction
        ("sending", None, True, True, Plan.RESEND),  # interrupted: same key again
        ("sent", "1", False, True, Plan.NOTHING),  # an update never posts again
        ("failed", None, False, True, Plan.NOTHING),  # refused: waits for an editor's retry
        ("ready", None, False, True, Plan.NOTHING),  # review: waits for approval
        ("retracting", "1", False, True, Plan.RETRACT),  # finish, then renew
        ("sent", "1", False, False, Plan.RETRACT),
        ("retracting", "1", False, False, Plan.RETRACT),
        ("ready", None, False, False, Plan.WITHDRAW),  # never sent: nothing to delete
        ("sending", None, False, False, Plan.WITHDRAW),  # certainly not out there (429, refused)
        ("sending", None, True, False, Plan.RETRACT),  # may be out there
        ("failed", None, False, False, Plan.NOTHING),
        ("failed", "1", False, False, Plan.RETRACT),  # a retraction that failed
        ("retracted", None, False, False, Plan.NOTHING),
    ],
)
def test_each_state_and_liveness_has_one_next_step(
    status: str, remote_id: str | None, maybe_sent: bool, live: bool, expected: Plan
) -> None:
    """Each post state, with the article live or not, has exactly one next step."""
    post = replace(POST, status=status, remote_id=remote_id, maybe_sent=maybe_sent)
    assert plan(post, live) is expected


def test_no_post_is_created_until_the_article_is_live() -> None:
    """A post is created only once its article is live."""
    assert plan(None, live=False) is Plan.NOTHING
    assert plan(None, live=True) is Plan.CREATE


def test_a_waiting_post_follows_the_article_unless_an_editor_edited_it() -> None:
    """A post waiting for review is recomposed on an article edit, unless an editor changed its text."""
    assert plan(POST, live=True, text_changed=True) is Plan.RECOMPOSE
    assert plan(replace(POST, edited_by="eddie"), live=True, text_changed=True) is Plan.NOTHING
