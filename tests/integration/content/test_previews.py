"""Preview links: made, listed and revoked by editors and article owners; shown by token only."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx2
import pytest

from cms.app import create_app
from cms.system import SystemSettings
from tests.helpers import bearer, count, create_draft, event_types, fixture, patch, publish

Record = asyncpg.Record


async def make_preview(
    api: httpx2.AsyncClient, token: str, article: dict[str, Any], **body: Any
) -> httpx2.Response:
    return await api.post(f"/v1/admin/articles/{article['id']}/previews", json=body, headers=bearer(token))


async def made(api: httpx2.AsyncClient, token: str, article: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await make_preview(api, token, article, **body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def assert_private(response: httpx2.Response) -> None:
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["x-robots-tag"].startswith("noindex")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "etag" not in response.headers
    assert "surrogate-key" not in response.headers
    assert "xkey" not in response.headers


async def test_a_preview_shows_a_draft_in_the_delivery_shape_kept_out_of_every_cache(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A draft's preview link answers the delivery shape, private and noindex, and writes no event."""
    related = await publish(
        api, token["editor"], await create_draft(api, token["editor"], title="Hintergrund")
    )
    hidden = await create_draft(api, token["editor"], title="Noch geheim")
    draft = await create_draft(
        api,
        token["author"],
        **fixture("article-stabschefs.de.json") | {"related": [related["id"], hidden["id"]]},
    )
    events_before = await count(db, "outbox")

    preview = await made(api, token["author"], draft)
    shown = await api.get(preview["url"])

    assert shown.status_code == 200, shown.text
    assert_private(shown)
    body = shown.json()
    live = (await api.get(f"/v1/content/articles/{related['slug']}")).json()
    assert set(live) <= set(body)  # the delivery shape, and a little more (status)
    assert body["title"] == draft["title"]
    assert body["body"] == draft["body"]
    assert body["status"] == "draft"
    assert body["published_at"] is None
    assert body["version"] == 1
    # "See also" as delivery expands it: the live one, not the unpublished draft.
    assert body["related"] == [
        {"id": related["id"], "slug": related["slug"], "language": "de", "title": "Hintergrund"}
    ]
    assert preview["token"].startswith("prv_")
    assert preview["version"] is None
    assert await count(db, "outbox") == events_before
    assert await event_types(db, draft["id"]) == ["cms.article.created"]


async def test_a_pinned_preview_keeps_its_version_and_a_floating_one_follows_the_latest(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A link pinned to version 1 shows version 1 after an edit; one without a version shows the edit."""
    draft = await create_draft(api, token["editor"], title="Erste Fassung", lead="eins")
    pinned = await made(api, token["editor"], draft, version=1)
    floating = await made(api, token["editor"], draft)

    edited = await patch(api, token["editor"], draft, title="Zweite Fassung", lead="zwei")
    assert edited.status_code == 200

    old = (await api.get(pinned["url"])).json()
    new = (await api.get(floating["url"])).json()
    assert (old["title"], old["lead"], old["version"]) == ("Erste Fassung", "eins", 1)
    assert (new["title"], new["lead"], new["version"]) == ("Zweite Fassung", "zwei", 2)


async def test_expired_revoked_malformed_and_unknown_links_get_the_same_404(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Expired, revoked, deleted-article, malformed and unknown links answer one identical 404."""
    draft = await create_draft(api, token["editor"])
    gone = await create_draft(api, token["editor"], title="Gelöscht")
    expired = await made(api, token["editor"], draft)
    revoked = await made(api, token["editor"], draft)
    deleted = await made(api, token["editor"], gone)
    working = await made(api, token["editor"], draft)
    await db.execute(
        "UPDATE article_previews SET created_at = now() - interval '2 hours', "
        "expires_at = now() - interval '1 second' WHERE id = $1",
        expired["id"],
    )
    revoke = await api.delete(
        f"/v1/admin/articles/{draft['id']}/previews/{revoked['id']}", headers=bearer(token["editor"])
    )
    removed = await api.delete(
        f"/v1/admin/articles/{gone['id']}", headers={**bearer(token["editor"]), "If-Match": '"1"'}
    )
    assert (revoke.status_code, removed.status_code) == (204, 204)

    answers = [
        await api.get(url)
        for url in (
            expired["url"],
            revoked["url"],
            deleted["url"],
            "/v1/preview/prv_" + "A" * 43,
            "/v1/preview/not-a-token",
            "/v1/preview/" + working["token"][:-1],
        )
    ]

    assert [a.status_code for a in answers] == [404] * 6
    assert len({a.content for a in answers}) == 1
    assert answers[0].headers["content-type"] == "application/problem+json"
    assert_private(answers[0])
    assert (await api.get(working["url"])).status_code == 200


async def test_the_token_is_shown_once_and_stored_only_as_its_hash(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """The list never shows a token, and the table holds only its sha256."""
    draft = await create_draft(api, token["editor"])
    preview = await made(api, token["editor"], draft)

    listing = await api.get(f"/v1/admin/articles/{draft['id']}/previews", headers=bearer(token["editor"]))
    stored = await db.fetchrow("SELECT * FROM article_previews WHERE id = $1", preview["id"])

    assert listing.status_code == 200
    assert [item["id"] for item in listing.json()["items"]] == [preview["id"]]
    assert preview["token"] not in listing.text
    assert "token" not in listing.json()["items"][0]
    assert stored is not None
    assert stored["token_hash"] == hashlib.sha256(preview["token"].encode()).digest()
    assert preview["token"] not in str(dict(stored))


async def test_a_link_lives_the_default_time_and_no_longer_than_the_maximum(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Without expires_in a link lives CMS_PREVIEW_DEFAULT_TTL; asking past CMS_PREVIEW_MAX_TTL is a 422."""
    draft = await create_draft(api, token["editor"])

    default = await made(api, token["editor"], draft)
    asked = await made(api, token["editor"], draft, expires_in=3600)
    too_long = await make_preview(api, token["editor"], draft, expires_in=15 * 24 * 3600)
    future = await make_preview(api, token["editor"], draft, version=2)

    def life(preview: dict[str, Any]) -> timedelta:
        return datetime.fromisoformat(preview["expires_at"]) - datetime.fromisoformat(preview["created_at"])

    assert life(default) == timedelta(days=2)
    assert life(asked) == timedelta(hours=1)
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["loc"] == ["body", "expires_in"]
    assert future.status_code == 422
    assert future.json()["errors"][0]["loc"] == ["body", "version"]
    assert await count(db, "article_previews") == 2


async def test_the_preview_lifetimes_are_settings(settings: SystemSettings, token: dict[str, str]) -> None:
    """CMS_PREVIEW_DEFAULT_TTL and CMS_PREVIEW_MAX_TTL set a link's default and longest life."""
    tuned = settings.model_copy(
        update={"preview_default_ttl": timedelta(minutes=5), "preview_max_ttl": timedelta(minutes=10)}
    )
    application = create_app(tuned)
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://cms.test") as client:
            draft = await create_draft(client, token["editor"])
            default = await made(client, token["editor"], draft)
            too_long = await make_preview(client, token["editor"], draft, expires_in=11 * 60)

    created = datetime.fromisoformat(default["created_at"])
    assert datetime.fromisoformat(default["expires_at"]) - created == timedelta(minutes=5)
    assert too_long.status_code == 422


@pytest.mark.parametrize("body", [{"expires_in": 59}, {"expires_in": "3600"}, {"version": 0}, {"pinned": 1}])
async def test_a_bad_preview_request_is_a_422_and_makes_no_link(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record], body: dict[str, Any]
) -> None:
    """Too short a life, a string for a number, version 0 or an unknown field: 422, no link."""
    draft = await create_draft(api, token["editor"])

    response = await make_preview(api, token["editor"], draft, **body)

    assert response.status_code == 422, response.text
    assert await count(db, "article_previews") == 0


async def test_revoking_a_link_of_another_article_or_an_unknown_one_is_a_404(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A link is revoked only through its own article: another id finds nothing; the link works on."""
    mine = await create_draft(api, token["editor"], title="Eins")
    other = await create_draft(api, token["editor"], title="Zwei")
    preview = await made(api, token["editor"], mine)

    wrong = await api.delete(
        f"/v1/admin/articles/{other['id']}/previews/{preview['id']}", headers=bearer(token["editor"])
    )
    unknown = await api.delete(
        f"/v1/admin/articles/{mine['id']}/previews/6f1c1a5e-0000-4000-8000-000000000000",
        headers=bearer(token["editor"]),
    )

    assert (wrong.status_code, unknown.status_code) == (404, 404)
    assert (await api.get(preview["url"])).status_code == 200


async def test_a_preview_token_never_reaches_the_request_log(
    api: httpx2.AsyncClient, token: dict[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    """The request log line of a preview names the route template, not the path with the token."""
    draft = await create_draft(api, token["editor"])
    preview = await made(api, token["editor"], draft)
    capfd.readouterr()

    shown = await api.get(preview["url"])
    logged = capfd.readouterr()

    assert shown.status_code == 200
    lines = [line for line in (logged.out + logged.err).splitlines() if "http.request" in line]
    assert len(lines) == 1
    assert "/v1/preview/{token}" in lines[0]
    assert preview["token"] not in logged.out + logged.err


async def test_a_killed_article_has_no_preview_pinned_or_not_and_gets_no_new_one(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """After a takedown every link, one pinned before it too, is the one 404; a new link is a 409."""
    draft = await create_draft(api, token["editor"], title="Rechtlich heikel")
    pinned = await made(api, token["editor"], draft, version=1)
    floating = await made(api, token["editor"], draft)
    before = await api.get(pinned["url"])

    killed = await api.post(
        f"/v1/admin/articles/{draft['id']}/kill",
        json={"reason": "einstweilige Verfügung"},
        headers=bearer(token["editor"]),
    )
    after = [await api.get(pinned["url"]), await api.get(floating["url"])]
    again = await make_preview(api, token["editor"], draft)

    assert before.status_code == 200
    assert killed.status_code == 200, killed.text
    assert [a.status_code for a in after] == [404, 404]
    assert after[0].content == (await api.get("/v1/preview/not-a-token")).content
    assert again.status_code == 409
    assert await count(db, "article_previews") == 2
