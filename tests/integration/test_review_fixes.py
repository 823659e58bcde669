"""Edge cases of editing found in review: each was wrong once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx2

from cms.articles import service
from cms.platform import db as cms_db
from cms.platform.identity import SYSTEM
from cms.system import SystemSettings
from tests.helpers import action, bearer, create_draft, event_types, patch


async def test_a_patch_that_changes_nothing_makes_no_version_and_no_event(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    article = await create_draft(api, token["editor"], lead="gleich")

    empty = await patch(api, token["editor"], article)
    same = await patch(api, token["editor"], article, lead="gleich", title=article["title"])

    assert empty.status_code == same.status_code == 200
    assert empty.json()["version"] == same.json()["version"] == 1
    assert await event_types(db, article["id"]) == ["cms.article.created"]
    assert await db.fetchval("SELECT count(*) FROM article_revisions") == 1


async def test_an_expiry_on_a_scheduled_article_keeps_the_embargo_and_applies_after_it(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    article = await create_draft(api, token["editor"], slug="embargo-mit-ablauf")
    go_live = datetime.now(UTC) + timedelta(hours=1)
    expire = go_live + timedelta(hours=2)
    await action(api, token["editor"], article, "publish", {"publish_at": go_live.isoformat()})

    response = await action(api, token["editor"], article, "unpublish", {"unpublish_at": expire.isoformat()})
    async with cms_db.create_pool(settings) as pool, pool.acquire() as conn:
        ctx = service.Context(actor=SYSTEM, now=go_live + timedelta(seconds=1), correlation_id="test")
        live = await service.publish_due(conn, uuid.UUID(article["id"]), ctx)

    assert response.status_code == 200
    assert response.json()["status"] == "scheduled"
    assert response.json()["unpublish_at"] is not None
    assert live is not None
    assert live.status == "published"
    assert live.unpublish_at == expire


async def test_an_expiry_before_the_scheduled_publication_is_a_409(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
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


async def test_an_author_editing_someone_elses_draft_is_refused_before_related_ids_are_checked(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    theirs = await create_draft(api, token["other_author"])

    response = await patch(api, token["author"], theirs, related=["00000000-0000-4000-8000-000000000000"])

    assert response.status_code == 403


async def test_a_deleted_articles_revisions_are_gone_with_it(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    article = await create_draft(api, token["editor"])
    await api.delete(
        f"/v1/admin/articles/{article['id']}", headers={**bearer(token["editor"]), "If-Match": '"1"'}
    )

    one = await api.get(f"/v1/admin/articles/{article['id']}/revisions/1", headers=bearer(token["editor"]))
    listing = await api.get(f"/v1/admin/articles/{article['id']}/revisions", headers=bearer(token["editor"]))

    assert one.status_code == listing.status_code == 404


async def test_a_weak_etag_in_if_match_never_matches(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    article = await create_draft(api, token["editor"])

    response = await api.patch(
        f"/v1/admin/articles/{article['id']}",
        json={"lead": "x"},
        headers={**bearer(token["editor"]), "If-Match": 'W/"1"'},
    )

    assert response.status_code == 412
    assert await event_types(db, article["id"]) == ["cms.article.created"]


async def test_without_a_token_even_a_malformed_id_or_query_is_a_401(api: httpx2.AsyncClient) -> None:
    responses = [
        await api.get("/v1/admin/articles/not-a-uuid"),
        await api.get("/v1/admin/articles?limit=0"),
        await api.delete("/v1/admin/tokens/xyz"),
        await api.get("/v1/admin/events?after=-1"),
        await api.get("/v1/admin/articles/6f1c1a5e-0000-4000-8000-000000000000/revisions/x"),
    ]

    assert [r.status_code for r in responses] == [401] * 5
