"""The status transitions of design §Status transitions, through the API and the scheduler's
service calls, and the one event each transition writes to the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx2
import pytest

from cms.articles import service
from cms.events.contract import Article
from cms.platform import auth
from cms.platform import db as cms_db
from cms.system import SystemSettings
from tests.helpers import action, bearer, create_draft, event_types, patch, publish

CREATED = "cms.article.created"
UPDATED = "cms.article.updated"
PUBLISHED = "cms.article.published"
UNPUBLISHED = "cms.article.unpublished"
DELETED = "cms.article.deleted"

Record = asyncpg.Record


def in_an_hour() -> datetime:
    return datetime.now(UTC) + timedelta(hours=1)


async def article_at(api: httpx2.AsyncClient, token: dict[str, str], status: str) -> dict[str, Any]:
    """A new article brought to `status` the way a newsroom would."""
    article = await create_draft(api, token["author"])
    if status == "in_review":
        article = await _ok(action(api, token["author"], article, "submit"))
    elif status == "scheduled":
        article = await _ok(
            action(api, token["editor"], article, "publish", {"publish_at": in_an_hour().isoformat()})
        )
    elif status == "published":
        article = await publish(api, token["editor"], article)
    elif status == "unpublished":
        article = await publish(api, token["editor"], article)
        article = await _ok(action(api, token["editor"], article, "unpublish"))
    assert article["status"] == status
    return article


async def _ok(call: Awaitable[httpx2.Response]) -> dict[str, Any]:
    response = await call
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def delivered(api: httpx2.AsyncClient, article: dict[str, Any]) -> bool:
    """Whether a site can read it: by slug, and in the list."""
    one = await api.get(f"/v1/content/articles/{article['slug']}", params={"language": article["language"]})
    listing = await api.get("/v1/content/articles", params={"limit": 100})
    listed = article["id"] in {item["id"] for item in listing.json()["items"]}
    assert (one.status_code == 200) == listed, "by-slug and list disagree"
    assert one.status_code in (200, 404)
    return listed


async def stored(conn: asyncpg.Connection[Record], article: dict[str, Any]) -> Record:
    row = await conn.fetchrow("SELECT status, version, deleted_at FROM articles WHERE id = $1", article["id"])
    assert row is not None
    return row


@pytest.fixture
async def scheduler_conn(settings: SystemSettings) -> AsyncIterator[asyncpg.Connection[Record]]:
    """A connection set up as the application's are (jsonb codecs), for calling the service."""
    conn = await cms_db.connect(settings)
    yield conn
    await conn.close()


def as_scheduler(now: datetime) -> service.Context:
    return service.Context(actor=auth.SYSTEM, now=now, correlation_id=None)


# draft → in_review


async def test_submit_moves_a_draft_to_review_and_emits_updated(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Submitting puts a draft in review as version 2 with an updated event, still undelivered."""
    article = await create_draft(api, token["author"])

    response = await action(api, token["author"], article, "submit")

    assert response.status_code == 200
    assert response.json()["status"] == "in_review"
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert await event_types(db, article["id"]) == [CREATED, UPDATED]
    assert not await delivered(api, article)


# publish now


@pytest.mark.parametrize("status", ["draft", "in_review", "unpublished"])
async def test_publish_makes_it_live_from_draft_review_or_unpublished(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], status: str
) -> None:
    """From draft, review or unpublished, publishing makes it deliverable with one published event."""
    article = await article_at(api, token, status)
    before = await event_types(db, article["id"])

    response = await action(api, token["editor"], article, "publish")

    assert response.status_code == 200
    live = response.json()
    assert live["status"] == "published"
    assert live["published_at"] is not None
    assert live["version"] == article["version"] + 1
    assert await event_types(db, article["id"]) == [*before, PUBLISHED]
    assert await delivered(api, article)


async def test_publish_with_a_past_publish_at_publishes_now(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A publish_at in the past publishes at once, dated now rather than backdated, with no schedule left."""
    article = await create_draft(api, token["author"])
    yesterday = datetime.now(UTC) - timedelta(days=1)

    response = await action(api, token["editor"], article, "publish", {"publish_at": yesterday.isoformat()})

    live = response.json()
    assert live["status"] == "published"
    assert live["publish_at"] is None
    assert datetime.fromisoformat(live["published_at"]) > yesterday + timedelta(hours=23)
    assert await event_types(db, article["id"]) == [CREATED, PUBLISHED]


async def test_republishing_keeps_first_published_at(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """Publishing an unpublished article again keeps its first date and moves published_at later."""
    first = await article_at(api, token, "published")
    down = await _ok(action(api, token["editor"], first, "unpublish"))

    again = await publish(api, token["editor"], down)

    assert again["first_published_at"] == first["first_published_at"]
    assert again["published_at"] > first["published_at"]


# publish later


async def test_publish_with_a_future_publish_at_schedules_it_and_keeps_it_off_delivery(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A future publish_at schedules the article (an update event) and keeps it off delivery."""
    article = await create_draft(api, token["author"])
    when = in_an_hour()

    response = await action(api, token["editor"], article, "publish", {"publish_at": when.isoformat()})

    scheduled = response.json()
    assert scheduled["status"] == "scheduled"
    assert datetime.fromisoformat(scheduled["publish_at"]) == when
    assert scheduled["published_at"] is None
    assert await event_types(db, article["id"]) == [CREATED, UPDATED]
    assert not await delivered(api, article)


async def test_unpublish_of_a_scheduled_article_cancels_the_schedule(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    scheduler_conn: asyncpg.Connection[Record],
) -> None:
    """Unpublishing a scheduled article cancels it: the scheduler later publishes nothing."""
    scheduled = await article_at(api, token, "scheduled")

    response = await action(api, token["editor"], scheduled, "unpublish")
    later = await service.publish_due(
        scheduler_conn, UUID(scheduled["id"]), as_scheduler(in_an_hour() + timedelta(minutes=1))
    )

    cancelled = response.json()
    assert cancelled["status"] == "unpublished"
    assert cancelled["publish_at"] is None
    assert later is None
    # It never was visible, so nothing stopped being visible: an update, not an unpublish.
    assert await event_types(db, scheduled["id"]) == [CREATED, UPDATED, UPDATED]
    assert not await delivered(api, scheduled)


# unpublish


async def test_unpublish_now_takes_it_off_delivery(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Unpublishing a live article takes it off delivery with one unpublished event."""
    live = await article_at(api, token, "published")
    assert await delivered(api, live)

    response = await action(api, token["editor"], live, "unpublish")

    assert response.status_code == 200
    assert response.json()["status"] == "unpublished"
    assert await event_types(db, live["id"]) == [CREATED, PUBLISHED, UNPUBLISHED]
    assert not await delivered(api, live)


async def test_unpublish_with_a_future_unpublish_at_stays_published_until_then(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A future unpublish_at records the expiry (an update event) and leaves the article live."""
    live = await article_at(api, token, "published")
    when = in_an_hour()

    response = await action(api, token["editor"], live, "unpublish", {"unpublish_at": when.isoformat()})

    expiring = response.json()
    assert expiring["status"] == "published"
    assert datetime.fromisoformat(expiring["unpublish_at"]) == when
    assert await event_types(db, live["id"]) == [CREATED, PUBLISHED, UPDATED]
    assert await delivered(api, live)


async def test_an_expiry_on_a_scheduled_article_keeps_the_embargo_and_applies_after_it(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """An expiry set during an embargo keeps it scheduled, and the expiry survives going live."""
    article = await create_draft(api, token["editor"], slug="embargo-mit-ablauf")
    go_live = datetime.now(UTC) + timedelta(hours=1)
    expire = go_live + timedelta(hours=2)
    await action(api, token["editor"], article, "publish", {"publish_at": go_live.isoformat()})

    response = await action(api, token["editor"], article, "unpublish", {"unpublish_at": expire.isoformat()})
    async with cms_db.create_pool(settings) as pool, pool.acquire() as conn:
        ctx = service.Context(actor=auth.SYSTEM, now=go_live + timedelta(seconds=1), correlation_id="test")
        live = await service.publish_due(conn, UUID(article["id"]), ctx)

    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"
    assert response.json()["unpublish_at"] is not None
    assert live is not None
    assert live.status == "published"
    assert live.unpublish_at == expire


async def test_an_expiry_before_the_scheduled_publication_is_a_409(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """An expiry before the article's scheduled publication is a 409 problem."""
    article = await create_draft(api, token["editor"])
    go_live = datetime.now(UTC) + timedelta(hours=2)
    await action(api, token["editor"], article, "publish", {"publish_at": go_live.isoformat()})

    response = await action(
        api,
        token["editor"],
        article,
        "unpublish",
        {"unpublish_at": (go_live - timedelta(hours=1)).isoformat()},
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


# edit while live


async def test_editing_a_published_article_changes_the_live_article_at_once(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """An edit to a live article is delivered at once and stays published, as an update event."""
    live = await article_at(api, token, "published")

    response = await patch(api, token["editor"], live, title="Stabschefs telefonieren")

    assert response.json()["status"] == "published"
    delivery = await api.get(f"/v1/content/articles/{live['slug']}")
    assert delivery.json()["title"] == "Stabschefs telefonieren"
    assert await event_types(db, live["id"]) == [CREATED, PUBLISHED, UPDATED]


# delete


@pytest.mark.parametrize("status", ["draft", "in_review", "scheduled", "published", "unpublished"])
async def test_delete_works_at_any_status_and_the_article_is_gone_everywhere(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], status: str
) -> None:
    """Deleting at any status is a 204 with one event; the article is gone from admin and delivery."""
    article = await article_at(api, token, status)
    before = await event_types(db, article["id"])

    response = await api.delete(
        f"/v1/admin/articles/{article['id']}",
        headers={**bearer(token["editor"]), "If-Match": f'"{article["version"]}"'},
    )

    assert response.status_code == 204
    assert response.content == b""
    assert await event_types(db, article["id"]) == [*before, DELETED]
    admin = await api.get(f"/v1/admin/articles/{article['id']}", headers=bearer(token["editor"]))
    assert admin.status_code == 404
    listing = await api.get("/v1/admin/articles", headers=bearer(token["editor"]))
    assert listing.json()["items"] == []
    assert not await delivered(api, article)
    row = await stored(db, article)
    assert row["deleted_at"] is not None  # soft: the row and its history stay


async def test_a_deleted_scheduled_article_is_never_published_by_the_scheduler(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    scheduler_conn: asyncpg.Connection[Record],
) -> None:
    """The scheduler skips a scheduled article that was deleted: no published event follows."""
    scheduled = await article_at(api, token, "scheduled")
    await api.delete(
        f"/v1/admin/articles/{scheduled['id']}", headers={**bearer(token["editor"]), "If-Match": '"2"'}
    )

    result = await service.publish_due(
        scheduler_conn, UUID(scheduled["id"]), as_scheduler(in_an_hour() + timedelta(minutes=1))
    )

    assert result is None
    assert await event_types(db, scheduled["id"]) == [CREATED, UPDATED, DELETED]


async def test_deleting_twice_is_404_the_second_time_and_emits_one_event(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A second delete is a 404 and writes no second deleted event."""
    article = await create_draft(api, token["author"])
    headers = {**bearer(token["editor"]), "If-Match": "*"}

    first = await api.delete(f"/v1/admin/articles/{article['id']}", headers=headers)
    second = await api.delete(f"/v1/admin/articles/{article['id']}", headers=headers)

    assert (first.status_code, second.status_code) == (204, 404)
    assert await event_types(db, article["id"]) == [CREATED, DELETED]


# invalid transitions

INVALID = [
    ("in_review", "submit"),
    ("scheduled", "submit"),
    ("published", "submit"),
    ("unpublished", "submit"),
    ("scheduled", "publish"),
    ("published", "publish"),
    ("draft", "unpublish"),
    ("in_review", "unpublish"),
    ("unpublished", "unpublish"),
]


@pytest.mark.parametrize(("status", "name"), INVALID)
async def test_an_invalid_transition_is_a_409_naming_the_current_status_and_changes_nothing(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], status: str, name: str
) -> None:
    """A transition the status does not allow is a 409 naming status and action; nothing changes."""
    article = await article_at(api, token, status)
    before = await event_types(db, article["id"])

    response = await action(api, token["editor"], article, name)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 409
    assert problem["current_status"] == status
    assert status in problem["detail"]
    assert name in problem["detail"]
    assert await event_types(db, article["id"]) == before
    row = await stored(db, article)
    assert (row["status"], row["version"]) == (status, article["version"])


async def test_scheduling_an_already_scheduled_article_is_a_409(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A scheduled article cannot be scheduled again: 409, and its schedule stays."""
    scheduled = await article_at(api, token, "scheduled")
    later = in_an_hour() + timedelta(hours=1)

    response = await action(api, token["editor"], scheduled, "publish", {"publish_at": later.isoformat()})

    assert response.status_code == 409
    assert response.json()["current_status"] == "scheduled"
    assert await event_types(db, scheduled["id"]) == [CREATED, UPDATED]


async def test_a_workflow_action_with_a_stale_if_match_is_412_and_changes_nothing(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A publish with a stale If-Match is a 412 naming the current version; the draft stays a draft."""
    article = await create_draft(api, token["editor"])
    await patch(api, token["editor"], article, lead="neu")

    response = await api.post(
        f"/v1/admin/articles/{article['id']}/publish", headers={**bearer(token["editor"]), "If-Match": '"1"'}
    )

    assert response.status_code == 412
    assert response.json()["current_version"] == 2
    assert await event_types(db, article["id"]) == [CREATED, UPDATED]
    assert (await stored(db, article))["status"] == "draft"


# the event carries the article at the version it reports


async def test_each_event_carries_the_article_at_the_version_it_reports(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Every outbox event holds the article as it was at that event's version, not as it is now."""
    article = await article_at(api, token, "unpublished")

    rows = await db.fetch(
        "SELECT event_type, article_version, payload FROM outbox WHERE article_id = $1 ORDER BY sequence",
        article["id"],
    )

    assert [(r["event_type"], r["article_version"]) for r in rows] == [
        (CREATED, 1),
        (PUBLISHED, 2),
        (UNPUBLISHED, 3),
    ]
    assert [r["payload"]["data"]["status"] for r in rows] == ["draft", "published", "unpublished"]
    assert [r["payload"]["articleversion"] for r in rows] == [1, 2, 3]


# the scheduler's half: publish_due and unpublish_due


async def test_publish_due_publishes_a_scheduled_article_once_its_time_came(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    scheduler_conn: asyncpg.Connection[Record],
) -> None:
    """At its time the scheduler publishes the article, dated then, credited to the system in revisions."""
    scheduled = await article_at(api, token, "scheduled")
    due = datetime.fromisoformat(scheduled["publish_at"])

    live = await service.publish_due(scheduler_conn, UUID(scheduled["id"]), as_scheduler(due))

    assert isinstance(live, Article)
    assert live.status == "published"
    assert live.published_at == live.first_published_at == due
    assert live.version == 3
    assert await event_types(db, scheduled["id"]) == [CREATED, UPDATED, PUBLISHED]
    assert await delivered(api, scheduled)
    revision = await db.fetchrow(
        "SELECT action, actor FROM article_revisions WHERE article_id = $1 AND version = 3", scheduled["id"]
    )
    assert revision is not None
    assert dict(revision) == {"action": "publish:scheduled", "actor": auth.SYSTEM.name}


async def test_publish_due_before_the_time_does_nothing(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    scheduler_conn: asyncpg.Connection[Record],
) -> None:
    """A second too early, the scheduler leaves the article scheduled and writes no event."""
    scheduled = await article_at(api, token, "scheduled")
    due = datetime.fromisoformat(scheduled["publish_at"])

    result = await service.publish_due(
        scheduler_conn, UUID(scheduled["id"]), as_scheduler(due - timedelta(seconds=1))
    )

    assert result is None
    assert await event_types(db, scheduled["id"]) == [CREATED, UPDATED]
    assert (await stored(db, scheduled))["status"] == "scheduled"


async def test_publish_due_fires_once_when_called_twice(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    scheduler_conn: asyncpg.Connection[Record],
) -> None:
    """Called twice for one due article, the scheduler publishes it once."""
    scheduled = await article_at(api, token, "scheduled")
    ctx = as_scheduler(in_an_hour() + timedelta(minutes=1))

    first = await service.publish_due(scheduler_conn, UUID(scheduled["id"]), ctx)
    second = await service.publish_due(scheduler_conn, UUID(scheduled["id"]), ctx)

    assert first is not None
    assert second is None
    assert (await event_types(db, scheduled["id"])).count(PUBLISHED) == 1


async def test_publish_due_fires_once_when_two_schedulers_race(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], settings: SystemSettings
) -> None:
    """Four schedulers racing on one due article publish it exactly once."""
    scheduled = await article_at(api, token, "scheduled")
    ctx = as_scheduler(in_an_hour() + timedelta(minutes=1))
    conns = [await cms_db.connect(settings) for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(service.publish_due(conn, UUID(scheduled["id"]), ctx) for conn in conns)
        )
    finally:
        for conn in conns:
            await conn.close()

    assert sum(result is not None for result in results) == 1
    assert (await event_types(db, scheduled["id"])).count(PUBLISHED) == 1


async def test_unpublish_due_takes_an_expiring_article_down_once_its_time_came(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    scheduler_conn: asyncpg.Connection[Record],
) -> None:
    """The expiry takes the article down at its time, not a second before, and only once."""
    live = await article_at(api, token, "published")
    expiring = await _ok(
        action(api, token["editor"], live, "unpublish", {"unpublish_at": in_an_hour().isoformat()})
    )
    due = datetime.fromisoformat(expiring["unpublish_at"])

    early = await service.unpublish_due(
        scheduler_conn, UUID(live["id"]), as_scheduler(due - timedelta(seconds=1))
    )
    down = await service.unpublish_due(scheduler_conn, UUID(live["id"]), as_scheduler(due))
    again = await service.unpublish_due(scheduler_conn, UUID(live["id"]), as_scheduler(due))

    assert early is None
    assert down is not None
    assert (down.status, down.unpublish_at, down.version) == ("unpublished", None, 4)
    assert again is None
    assert await event_types(db, live["id"]) == [CREATED, PUBLISHED, UPDATED, UNPUBLISHED]
    assert not await delivered(api, live)


async def test_unpublish_due_leaves_an_article_without_an_expiry_alone(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[Record],
    scheduler_conn: asyncpg.Connection[Record],
) -> None:
    """The scheduler does not take down a live article that has no expiry."""
    live = await article_at(api, token, "published")

    result = await service.unpublish_due(scheduler_conn, UUID(live["id"]), as_scheduler(in_an_hour()))

    assert result is None
    assert await event_types(db, live["id"]) == [CREATED, PUBLISHED]
    assert await delivered(api, live)
