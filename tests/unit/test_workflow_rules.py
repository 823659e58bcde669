"""The article's life as pure functions: which transitions exist and what each one stamps."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from cms.articles import workflow
from cms.events.contract import Article, Status, is_live
from cms.platform.errors import InvalidTransition

T0 = datetime(2022, 5, 19, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def draft(**fields: object) -> Article:
    given: dict[str, object] = {
        "title": "Stabschefs",
        "language": "de",
        "slug": "stabschefs",
        "lead": "",
        "body": [],
    }
    given |= {"section": None, "tags": [], "authors": [], "related": []}
    return workflow.new_draft(given | fields, article_id=uuid.uuid4(), owner="aurelia", now=T0)


def at_status(status: Status, **fields: object) -> Article:
    return draft().model_copy(update={"status": status, **fields})


def test_a_new_draft_is_version_1_with_no_publication_dates() -> None:
    """A new draft is version 1, owned by its author, and carries no publication or schedule date."""
    article = draft()

    assert (article.status, article.version, article.owner) == ("draft", 1, "aurelia")
    assert article.created_at == article.updated_at == T0
    assert article.published_at is None
    assert article.first_published_at is None
    assert article.publish_at is None


def test_edit_changes_the_given_fields_bumps_version_and_updated_at() -> None:
    """An edit changes only the fields given, is an update, and moves version and updated_at on."""
    article = draft(lead="alt")

    edited, kind = workflow.edit(article, {"lead": "neu"}, T0 + HOUR)

    assert kind == "updated"
    assert edited.lead == "neu"
    assert edited.title == article.title
    assert edited.version == 2
    assert edited.updated_at == T0 + HOUR
    assert edited.created_at == T0


def test_the_original_article_is_left_untouched() -> None:
    """Transitions return a new article: the one passed in keeps its text and version."""
    article = draft(lead="alt")

    workflow.edit(article, {"lead": "neu"}, T0 + HOUR)

    assert (article.lead, article.version) == ("alt", 1)


def test_submit_moves_a_draft_to_review() -> None:
    """Submitting a draft puts it in review as an update, one version on."""
    submitted, kind = workflow.submit(draft(), T0 + HOUR)

    assert (submitted.status, submitted.version, kind) == ("in_review", 2, "updated")


@pytest.mark.parametrize("status", ["draft", "in_review", "unpublished"])
def test_publish_without_a_time_makes_it_live_now(status: Status) -> None:
    """From draft, review or unpublished, publishing now sets both publication dates to now."""
    live, kind = workflow.publish(at_status(status), None, T0 + HOUR)

    assert kind == "published"
    assert live.status == "published"
    assert live.published_at == T0 + HOUR
    assert live.first_published_at == T0 + HOUR
    assert live.version == 2


def test_publish_with_a_past_time_publishes_now_not_backdated() -> None:
    """A publish_at in the past publishes at the present moment, never backdated, and leaves no schedule."""
    live, kind = workflow.publish(draft(), T0 - HOUR, T0)

    assert (live.status, live.published_at, live.publish_at, kind) == ("published", T0, None, "published")


def test_publish_with_a_future_time_schedules_and_is_no_publication_yet() -> None:
    """A future publish_at schedules the article as an update; no publication date is set yet."""
    scheduled, kind = workflow.publish(draft(), T0 + HOUR, T0)

    assert kind == "updated"
    assert scheduled.status == "scheduled"
    assert scheduled.publish_at == T0 + HOUR
    assert scheduled.published_at is None
    assert scheduled.first_published_at is None


@pytest.mark.parametrize("status", ["scheduled", "published"])
def test_publish_from_scheduled_or_published_is_an_invalid_transition(status: Status) -> None:
    """Publishing what is scheduled or live is refused, naming the current status."""
    with pytest.raises(InvalidTransition) as raised:
        workflow.publish(at_status(status), None, T0)

    assert raised.value.current_status == status
    assert status in str(raised.value)


@pytest.mark.parametrize("status", ["in_review", "scheduled", "published", "unpublished"])
def test_submit_from_anything_but_draft_is_an_invalid_transition(status: Status) -> None:
    """Only a draft can be submitted; every other status is refused and named."""
    with pytest.raises(InvalidTransition) as raised:
        workflow.submit(at_status(status), T0)

    assert raised.value.current_status == status


@pytest.mark.parametrize("status", ["draft", "in_review", "unpublished"])
def test_unpublish_of_what_is_not_live_or_scheduled_is_an_invalid_transition(status: Status) -> None:
    """Unpublishing what is neither live nor scheduled is refused, with the status in the problem's extras."""
    with pytest.raises(InvalidTransition) as raised:
        workflow.unpublish(at_status(status), None, T0)

    assert raised.value.current_status == status
    assert raised.value.extra == {"current_status": status}


def test_republishing_keeps_first_published_at_and_moves_published_at() -> None:
    """Publishing again keeps the first publication date and moves published_at to now."""
    first, _ = workflow.publish(draft(), None, T0)
    down, _ = workflow.unpublish(first, None, T0 + HOUR)

    again, kind = workflow.publish(down, None, T0 + 2 * HOUR)

    assert kind == "published"
    assert again.first_published_at == T0
    assert again.published_at == T0 + 2 * HOUR
    assert again.version == 4


def test_unpublish_now_takes_it_down() -> None:
    """Unpublishing without a time takes the article down at once and leaves no expiry."""
    live, _ = workflow.publish(draft(), None, T0)

    down, kind = workflow.unpublish(live, None, T0 + HOUR)

    assert (down.status, kind, down.version) == ("unpublished", "unpublished", 3)
    assert down.unpublish_at is None


def test_unpublish_with_a_future_time_keeps_it_live_until_then() -> None:
    """Unpublishing at a future time keeps the article live, records the expiry, and is an update."""
    live, _ = workflow.publish(draft(), None, T0)

    expiring, kind = workflow.unpublish(live, T0 + 2 * HOUR, T0 + HOUR)

    assert (expiring.status, kind) == ("published", "updated")
    assert expiring.unpublish_at == T0 + 2 * HOUR
    assert expiring.version == 3


def test_unpublish_of_a_scheduled_article_cancels_the_schedule_without_an_unpublish_event() -> None:
    """It was never visible, so nothing stopped being visible: downstream hears an update."""
    scheduled, _ = workflow.publish(draft(), T0 + HOUR, T0)

    cancelled, kind = workflow.unpublish(scheduled, None, T0 + timedelta(minutes=5))

    assert (cancelled.status, kind) == ("unpublished", "updated")
    assert cancelled.publish_at is None
    assert cancelled.published_at is None


def test_publish_due_makes_a_scheduled_article_live_at_its_time() -> None:
    """At its publish_at a scheduled article goes live, dated then, and the schedule is cleared."""
    scheduled, _ = workflow.publish(draft(), T0 + HOUR, T0)

    live, kind = workflow.publish_due(scheduled, T0 + HOUR)

    assert (live.status, kind) == ("published", "published")
    assert live.published_at == live.first_published_at == T0 + HOUR
    assert live.publish_at is None
    assert live.version == 3


def test_publish_due_before_the_time_is_refused() -> None:
    """A scheduler one second early cannot publish a scheduled article."""
    scheduled, _ = workflow.publish(draft(), T0 + HOUR, T0)

    with pytest.raises(InvalidTransition):
        workflow.publish_due(scheduled, T0 + HOUR - timedelta(seconds=1))


def test_publish_due_of_an_article_that_is_not_scheduled_is_refused() -> None:
    """The scheduler cannot publish an article that was never scheduled."""
    with pytest.raises(InvalidTransition):
        workflow.publish_due(draft(), T0)


def test_unpublish_due_takes_it_down_at_its_time_and_clears_the_expiry() -> None:
    """At its expiry a live article goes down, the expiry is cleared and its first publication kept."""
    live, _ = workflow.publish(draft(), None, T0)
    expiring, _ = workflow.unpublish(live, T0 + HOUR, T0)

    down, kind = workflow.unpublish_due(expiring, T0 + HOUR)

    assert (down.status, kind, down.unpublish_at) == ("unpublished", "unpublished", None)
    assert down.first_published_at == T0


def test_unpublish_due_before_the_time_is_refused() -> None:
    """The scheduler cannot take an article down before its expiry."""
    live, _ = workflow.publish(draft(), None, T0)
    expiring, _ = workflow.unpublish(live, T0 + 2 * HOUR, T0)

    with pytest.raises(InvalidTransition):
        workflow.unpublish_due(expiring, T0 + HOUR)


@pytest.mark.parametrize("status", ["draft", "in_review", "scheduled", "published", "unpublished"])
def test_delete_works_at_any_status_and_keeps_the_status(status: Status) -> None:
    """Any article can be deleted; the deletion is dated and the status it had is kept."""
    deleted, kind = workflow.delete(at_status(status), T0 + HOUR)

    assert kind == "deleted"
    assert deleted.deleted_at == T0 + HOUR
    assert deleted.status == status
    assert deleted.version == 2


def test_restore_brings_back_the_content_but_not_status_or_schedule() -> None:
    """Restoring an old revision brings back its text and tags, not its status or publication date."""
    old = draft(title="Alt", lead="alter Vorspann", tags=["eu"])
    live, _ = workflow.publish(workflow.edit(old, {"title": "Neu", "tags": []}, T0)[0], None, T0)

    restored, kind = workflow.restore(live, old, T0 + HOUR)

    assert kind == "updated"
    assert (restored.title, restored.lead, restored.tags) == ("Alt", "alter Vorspann", ["eu"])
    assert restored.status == "published"
    assert restored.published_at == T0
    assert restored.version == live.version + 1


def test_every_transition_adds_exactly_one_to_the_version() -> None:
    """Each step through the whole lifecycle raises the version by exactly one."""
    article = draft()
    steps: list[Callable[[Article], workflow.Change]] = [
        lambda a: workflow.edit(a, {"lead": "x"}, T0),
        lambda a: workflow.submit(a, T0),
        lambda a: workflow.publish(a, None, T0),
        lambda a: workflow.unpublish(a, T0 + HOUR, T0),
        lambda a: workflow.unpublish_due(a, T0 + HOUR),
        lambda a: workflow.publish(a, T0 + 2 * HOUR, T0 + HOUR),
        lambda a: workflow.publish_due(a, T0 + 2 * HOUR),
        lambda a: workflow.unpublish(a, None, T0 + 3 * HOUR),
        lambda a: workflow.restore(a, draft(title="Alt"), T0 + 3 * HOUR),
        lambda a: workflow.delete(a, T0 + 4 * HOUR),
    ]

    for expected, step in enumerate(steps, start=2):
        article, _ = step(article)
        assert article.version == expected


def test_cancelling_a_schedule_drops_its_expiry_too() -> None:
    """Embargo and expiry set, then the schedule cancelled: no expiry is left behind."""
    scheduled, _ = workflow.publish(draft(), T0 + 3 * HOUR, T0)
    expiring, _ = workflow.unpublish(scheduled, T0 + 4 * HOUR, T0)

    cancelled, _ = workflow.unpublish(expiring, None, T0 + HOUR)

    assert (cancelled.status, cancelled.publish_at, cancelled.unpublish_at) == ("unpublished", None, None)


def test_publishing_now_drops_an_expiry_that_is_not_after_it() -> None:
    """An expiry meant for an earlier publication must not take the new one down at once."""
    stale = at_status("unpublished", unpublish_at=T0 + HOUR)

    live, kind = workflow.publish(stale, None, T0 + 2 * HOUR)

    assert (live.status, kind, live.unpublish_at) == ("published", "published", None)


def test_publishing_keeps_an_expiry_that_lies_after_it() -> None:
    """An expiry still in the future after going live is the editor's and stays."""
    later = at_status("unpublished", unpublish_at=T0 + 5 * HOUR)

    live, _ = workflow.publish(later, None, T0 + 2 * HOUR)
    scheduled, _ = workflow.publish(later, T0 + 3 * HOUR, T0 + 2 * HOUR)
    too_late, _ = workflow.publish(later, T0 + 6 * HOUR, T0 + 2 * HOUR)

    assert live.unpublish_at == T0 + 5 * HOUR
    assert scheduled.unpublish_at == T0 + 5 * HOUR
    assert (too_late.status, too_late.unpublish_at) == ("scheduled", None)


def test_a_scheduled_publication_going_live_drops_an_expiry_already_past() -> None:
    """The scheduler's half keeps only an expiry after the moment it goes live."""
    scheduled = at_status("scheduled", publish_at=T0 + HOUR, unpublish_at=T0 + HOUR)

    live, _ = workflow.publish_due(scheduled, T0 + 2 * HOUR)

    assert (live.status, live.unpublish_at) == ("published", None)


# ---- corrections and kills ----

NOT_PUBLISHED: list[Status] = ["draft", "in_review", "scheduled", "unpublished", "killed"]


def live() -> Article:
    published, _ = workflow.publish(draft(), None, T0)
    return published


def test_a_correction_appends_a_dated_note_and_is_its_own_event_kind() -> None:
    """A correction adds one dated note after the earlier ones, one version on, as `corrected`."""
    first_id, second_id = uuid.uuid4(), uuid.uuid4()
    once, _ = workflow.correct(live(), first_id, "Der Ort war falsch.", "eddie", T0 + HOUR)

    twice, kind = workflow.correct(once, second_id, "Das Datum auch.", "ada", T0 + 2 * HOUR)

    assert kind == "corrected"
    assert [(c.id, c.note, c.at, c.by) for c in twice.corrections] == [
        (first_id, "Der Ort war falsch.", T0 + HOUR, "eddie"),
        (second_id, "Das Datum auch.", T0 + 2 * HOUR, "ada"),
    ]
    assert twice.version == live().version + 2
    assert (twice.status, twice.title, twice.published_at) == ("published", live().title, T0)


@pytest.mark.parametrize("status", NOT_PUBLISHED)
def test_only_a_published_article_can_be_corrected(status: Status) -> None:
    """A correction note is for what readers saw: at any other status it is a conflict."""
    with pytest.raises(InvalidTransition):
        workflow.correct(at_status(status), uuid.uuid4(), "Notiz", "eddie", T0)


@pytest.mark.parametrize("status", ["draft", "in_review", "scheduled", "published", "unpublished"])
def test_kill_takes_any_status_off_for_good_and_cancels_schedule_and_expiry(status: Status) -> None:
    """Killing is allowed from every other status: never live, no schedule or expiry left, as `killed`."""
    article = at_status(status, publish_at=T0 + HOUR, unpublish_at=T0 + 2 * HOUR, published_at=T0)

    killed, kind = workflow.kill(article, T0 + HOUR)

    assert kind == "killed"
    assert (killed.status, killed.killed_at, killed.version) == ("killed", T0 + HOUR, article.version + 1)
    assert (killed.publish_at, killed.unpublish_at) == (None, None)
    assert not is_live(killed)


def test_a_killed_article_cannot_be_killed_again_published_unpublished_or_submitted() -> None:
    """Publish (now or scheduled), unpublish, submit and a second kill of a killed article are conflicts."""
    killed, _ = workflow.kill(live(), T0 + HOUR)

    attempts: list[Callable[[], workflow.Change]] = [
        lambda: workflow.publish(killed, None, T0 + 2 * HOUR),
        lambda: workflow.publish(killed, T0 + 5 * HOUR, T0 + 2 * HOUR),
        lambda: workflow.unpublish(killed, None, T0 + 2 * HOUR),
        lambda: workflow.submit(killed, T0 + 2 * HOUR),
        lambda: workflow.kill(killed, T0 + 2 * HOUR),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidTransition) as caught:
            attempt()
        assert caught.value.current_status == "killed"


def test_restoring_a_killed_article_leaves_it_unpublished_and_publishable_again() -> None:
    """Lifting a takedown makes it unpublished (still not live), an update; then it can be published."""
    corrected, _ = workflow.correct(live(), uuid.uuid4(), "Notiz", "eddie", T0)
    killed, _ = workflow.kill(corrected, T0 + HOUR)

    restored, kind = workflow.restore_killed(killed, T0 + 2 * HOUR)
    again, again_kind = workflow.publish(restored, None, T0 + 3 * HOUR)

    assert (restored.status, restored.killed_at, kind) == ("unpublished", None, "updated")
    assert not is_live(restored)
    assert restored.corrections == corrected.corrections  # a takedown does not erase the record
    assert (again.status, again_kind) == ("published", "published")


@pytest.mark.parametrize("status", ["draft", "in_review", "scheduled", "published", "unpublished"])
def test_only_a_killed_article_can_be_restored_from_a_kill(status: Status) -> None:
    """restore_killed of an article that is not killed is a conflict."""
    with pytest.raises(InvalidTransition):
        workflow.restore_killed(at_status(status), T0)


def test_restoring_an_old_revision_keeps_the_corrections() -> None:
    """A revision restore brings back old content, never a state without the later correction notes."""
    original = live()
    corrected, _ = workflow.correct(original, uuid.uuid4(), "Notiz", "eddie", T0 + HOUR)

    restored, _ = workflow.restore(corrected, original, T0 + 2 * HOUR)

    assert restored.corrections == corrected.corrections
