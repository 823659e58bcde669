"""Creating, reading and editing articles through the admin API."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx2

from tests.helpers import bearer, count, create_draft, event_types, fixture, patch


async def test_create_returns_201_with_location_etag_and_generated_german_slug(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Creating the Luxusgüter article answers 201 with Location, ETag 1 and a transliterated slug."""
    response = await api.post(
        "/v1/admin/articles", json=fixture("article-luxusgueter.de.json"), headers=bearer(token["author"])
    )

    assert response.status_code == 201
    article = response.json()
    assert article["slug"] == "eu-verbietet-export-von-luxusguetern-nach-russland"
    assert article["status"] == "draft"
    assert article["version"] == 1
    assert article["owner"] == "aurelia"
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/v1/admin/articles/{article['id']}"


async def test_create_writes_article_revision_and_created_event_together(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """A create writes the first revision and exactly one created event in the same transaction."""
    article = await create_draft(api, token["author"])

    assert await event_types(db, article["id"]) == ["cms.article.created"]
    revision = await db.fetchrow(
        "SELECT version, action, actor FROM article_revisions WHERE article_id = $1", article["id"]
    )
    assert revision is not None
    assert dict(revision) == {"version": 1, "action": "create", "actor": "aurelia"}


async def test_outbox_row_is_a_cloudevent_carrying_the_whole_article(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The outbox row is a CloudEvent holding the article as the API returned it, with the request id."""
    response = await api.post(
        "/v1/admin/articles",
        json=fixture("article-stabschefs.de.json"),
        headers={**bearer(token["author"]), "X-Request-ID": "req-stabschefs-1"},
    )
    article = response.json()

    row = await db.fetchrow("SELECT * FROM outbox WHERE article_id = $1", article["id"])
    assert row is not None
    event = row["payload"]
    assert event["specversion"] == "1.0"
    assert event["type"] == "cms.article.created"
    assert event["source"] == "/cms"
    assert event["subject"] == article["id"]
    assert event["id"] == str(row["event_id"])
    assert event["articleversion"] == 1
    assert event["data"] == article
    assert row["correlation_id"] == "req-stabschefs-1"
    assert row["sent_at"] is None


async def test_explicit_slug_taken_in_the_same_language_is_409_and_writes_nothing(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """A taken slug in the same language is refused with 409 and nothing is written."""
    await create_draft(api, token["author"], slug="stabschefs")
    before = await count(db, "outbox")

    response = await api.post(
        "/v1/admin/articles",
        json={"title": "Andere", "language": "de", "slug": "stabschefs"},
        headers=bearer(token["author"]),
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert await count(db, "articles") == 1
    assert await count(db, "outbox") == before


async def test_same_slug_in_another_language_is_allowed(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Slugs are unique per language: the English edition may share the German slug."""
    await create_draft(api, token["author"], slug="stabschefs")
    english = await create_draft(api, token["author"], slug="stabschefs", language="en")

    assert english["slug"] == "stabschefs"


async def test_generated_slug_that_is_taken_gets_a_number(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A second article with the same title gets its generated slug suffixed with -2."""
    first = await create_draft(api, token["author"], title="Liveblog: Wahl")
    second = await create_draft(api, token["author"], title="Liveblog: Wahl")

    assert first["slug"] == "liveblog-wahl"
    assert second["slug"] == "liveblog-wahl-2"


async def test_a_generated_slug_always_succeeds_however_often_the_title_recurs(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """The 60th "Morning briefing" still gets a slug of its own, numbered after the highest."""
    made = [await create_draft(api, token["author"], title="Morning briefing") for _ in range(55)]
    chosen = await create_draft(api, token["author"], title="x", slug="morning-briefing-90")
    later = [await create_draft(api, token["author"], title="Morning briefing") for _ in range(5)]

    slugs = [article["slug"] for article in made]
    assert slugs == ["morning-briefing", *(f"morning-briefing-{n}" for n in range(2, 56))]
    assert chosen["slug"] == "morning-briefing-90"
    assert [article["slug"] for article in later] == [f"morning-briefing-{n}" for n in range(91, 96)]


async def test_concurrent_creates_of_one_title_each_get_a_slug(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Ten writers racing for one generated slug: ten 201s, ten distinct slugs."""
    made = await asyncio.gather(*(create_draft(api, token["author"], title="Eilmeldung") for _ in range(10)))

    slugs = {article["slug"] for article in made}
    assert len(slugs) == 10
    assert "eilmeldung" in slugs
    assert all(slug.startswith("eilmeldung") for slug in slugs)


async def test_a_long_generated_slug_is_numbered_within_the_slug_length(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A title near the slug limit still gets a numbered slug no longer than 120 characters."""
    title = "Regierung " * 20
    first = await create_draft(api, token["author"], title=title)
    second = await create_draft(api, token["author"], title=title)

    assert len(first["slug"]) <= 120
    assert second["slug"] != first["slug"]
    assert second["slug"].endswith("-2")
    assert len(second["slug"]) <= 120


async def test_slug_of_a_deleted_article_can_be_reused(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Deleting an article frees its slug for a new one."""
    old = await create_draft(api, token["author"], slug="stabschefs")
    deleted = await api.delete(
        f"/v1/admin/articles/{old['id']}", headers={**bearer(token["editor"]), "If-Match": '"1"'}
    )
    assert deleted.status_code == 204

    again = await create_draft(api, token["author"], slug="stabschefs")

    assert again["id"] != old["id"]


async def test_related_ids_must_name_existing_articles(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """A related id that names no article is a 422 on body.related and creates nothing."""
    response = await api.post(
        "/v1/admin/articles",
        json={"title": "x", "language": "de", "related": ["00000000-0000-4000-8000-000000000000"]},
        headers=bearer(token["author"]),
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "related"]
    assert await count(db, "articles") == 0


async def test_get_returns_article_with_etag(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """Reading an article returns what create returned, no edit lock, and its version as the ETag."""
    article = await create_draft(api, token["author"])

    response = await api.get(f"/v1/admin/articles/{article['id']}", headers=bearer(token["author"]))

    assert response.status_code == 200
    assert response.json() == {**article, "lock": None}
    assert response.headers["etag"] == '"1"'


async def test_patch_changes_only_given_fields_and_bumps_version(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """A patch changes only the fields sent, bumps version and ETag, and writes one updated event."""
    article = await create_draft(api, token["author"], lead="alt", section="world")

    response = await patch(api, token["author"], article, lead="neu")

    assert response.status_code == 200
    updated = response.json()
    assert updated["lead"] == "neu"
    assert updated["section"] == "world"
    assert updated["title"] == article["title"]
    assert updated["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert await event_types(db, article["id"]) == ["cms.article.created", "cms.article.updated"]


async def test_a_patch_that_changes_nothing_makes_no_version_and_no_event(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """An empty patch, or one that repeats the current values, makes no version, revision or event."""
    article = await create_draft(api, token["editor"], lead="gleich")

    empty = await patch(api, token["editor"], article)
    same = await patch(api, token["editor"], article, lead="gleich", title=article["title"])

    assert empty.status_code == same.status_code == 200
    assert empty.json()["version"] == same.json()["version"] == 1
    assert await event_types(db, article["id"]) == ["cms.article.created"]
    assert await db.fetchval("SELECT count(*) FROM article_revisions") == 1


async def test_patch_with_null_section_clears_it_but_null_title_is_422(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """null clears an optional field like section; null for the required title is a 422."""
    article = await create_draft(api, token["author"], section="world")

    cleared = await patch(api, token["author"], article, section=None)
    refused = await patch(api, token["author"], cleared.json(), title=None)

    assert cleared.json()["section"] is None
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "title"]


async def test_patch_without_if_match_is_428(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """A patch without If-Match is refused with 428 and writes no event."""
    article = await create_draft(api, token["author"])

    response = await api.patch(
        f"/v1/admin/articles/{article['id']}", json={"lead": "x"}, headers=bearer(token["author"])
    )

    assert response.status_code == 428
    assert await event_types(db, article["id"]) == ["cms.article.created"]


async def test_stale_if_match_is_rejected_with_412_and_emits_no_event(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Two editors on one story: the slower save must not undo the faster one."""
    draft = await create_draft(api, token["editor"], title="Stabschefs")
    await patch(api, token["editor"], draft, lead="first")

    response = await patch(api, token["editor"], draft, lead="second")  # still sends version 1

    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["current_version"] == 2
    assert await event_types(db, draft["id"]) == ["cms.article.created", "cms.article.updated"]
    current = await db.fetchval("SELECT lead FROM articles WHERE id = $1", draft["id"])
    assert current == "first"


async def test_a_weak_etag_in_if_match_never_matches(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """A weak ETag in If-Match is a 412 even for the current version: writes need a strong match."""
    article = await create_draft(api, token["editor"])

    response = await api.patch(
        f"/v1/admin/articles/{article['id']}",
        json={"lead": "x"},
        headers={**bearer(token["editor"]), "If-Match": 'W/"1"'},
    )

    assert response.status_code == 412
    assert await event_types(db, article["id"]) == ["cms.article.created"]


async def test_two_simultaneous_saves_of_one_version_one_wins_one_gets_412(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Of eight concurrent saves of version 1 exactly one lands; the others get 412 and leave no trace."""
    draft = await create_draft(api, token["editor"])

    results = await asyncio.gather(*(patch(api, token["editor"], draft, lead=f"edit {n}") for n in range(8)))

    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [412] * 7
    winner = next(r.json() for r in results if r.status_code == 200)
    stored = await db.fetchrow("SELECT lead, version FROM articles WHERE id = $1", draft["id"])
    assert stored is not None
    assert (stored["lead"], stored["version"]) == (winner["lead"], 2)
    assert await event_types(db, draft["id"]) == ["cms.article.created", "cms.article.updated"]


async def test_unknown_and_malformed_ids_are_404(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """An unknown id and a string that is no UUID are both a 404 problem, not a 422 or 500."""
    unknown = await api.get(
        "/v1/admin/articles/6f1c1a5e-0000-4000-8000-000000000000", headers=bearer(token["author"])
    )
    malformed = await api.get("/v1/admin/articles/not-a-uuid", headers=bearer(token["author"]))

    assert unknown.status_code == 404
    assert malformed.status_code == 404
    assert malformed.headers["content-type"] == "application/problem+json"


async def test_list_filters_by_status_and_tag_and_pages_with_a_cursor(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """The admin list filters by tag and status and pages newest first through next_cursor."""
    for n in range(5):
        await create_draft(api, token["author"], title=f"Artikel {n}", tags=["eu"] if n % 2 else ["usa"])

    first = await api.get("/v1/admin/articles?tag=eu&limit=1", headers=bearer(token["author"]))
    second = await api.get(
        f"/v1/admin/articles?tag=eu&limit=1&cursor={first.json()['next_cursor']}",
        headers=bearer(token["author"]),
    )
    drafts = await api.get("/v1/admin/articles?status=draft", headers=bearer(token["author"]))
    published = await api.get("/v1/admin/articles?status=published", headers=bearer(token["author"]))

    assert [a["title"] for a in first.json()["items"]] == ["Artikel 3"]
    assert [a["title"] for a in second.json()["items"]] == ["Artikel 1"]
    assert len(drafts.json()["items"]) == 5
    assert published.json() == {"items": [], "next_cursor": None}


async def test_every_change_is_a_full_revision_and_one_can_be_restored(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Each version is kept as a full revision; restoring one writes a new version with its text."""
    article = await create_draft(api, token["editor"], lead="eins")
    await patch(api, token["editor"], article, lead="zwei")
    headers = bearer(token["editor"])

    listing = await api.get(f"/v1/admin/articles/{article['id']}/revisions", headers=headers)
    first = await api.get(f"/v1/admin/articles/{article['id']}/revisions/1", headers=headers)
    restored = await api.post(f"/v1/admin/articles/{article['id']}/revisions/1/restore", headers=headers)

    assert [r["version"] for r in listing.json()["items"]] == [2, 1]
    assert first.json()["article"]["lead"] == "eins"
    assert restored.status_code == 200
    assert restored.json()["lead"] == "eins"
    assert restored.json()["version"] == 3
    assert await event_types(db, article["id"]) == ["cms.article.created"] + ["cms.article.updated"] * 2


async def test_restoring_a_version_that_does_not_exist_is_404(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Restoring a version the article never had is a 404."""
    article = await create_draft(api, token["editor"])

    response = await api.post(
        f"/v1/admin/articles/{article['id']}/revisions/9/restore", headers=bearer(token["editor"])
    )

    assert response.status_code == 404


async def test_a_deleted_articles_revisions_are_gone_with_it(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Once an article is deleted its revisions are no longer listed or readable (404)."""
    article = await create_draft(api, token["editor"])
    await api.delete(
        f"/v1/admin/articles/{article['id']}", headers={**bearer(token["editor"]), "If-Match": '"1"'}
    )

    one = await api.get(f"/v1/admin/articles/{article['id']}/revisions/1", headers=bearer(token["editor"]))
    listing = await api.get(f"/v1/admin/articles/{article['id']}/revisions", headers=bearer(token["editor"]))

    assert one.status_code == listing.status_code == 404


def _blocks(article: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = article["body"]
    return blocks


async def test_inline_html_is_reduced_to_the_safe_subset(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Scripts, handlers, javascript: links and foreign tags are stripped from body text on save."""
    body = [
        {
            "type": "paragraph",
            "text": 'Ein <b>fetter</b> <script>alert(1)</script><a href="javascript:x()" '
            'onclick="x()">Link</a> <a href="https://example.org">gut</a><p>p</p>',
        },
        {"type": "list", "items": ["<i>eins</i>", "<img src=x onerror=alert(1)>zwei"], "ordered": True},
    ]

    article = await create_draft(api, token["author"], body=body)

    paragraph, listing = _blocks(article)
    assert paragraph["text"] == (
        'Ein <b>fetter</b> <a rel="noopener noreferrer">Link</a> '
        '<a href="https://example.org" rel="noopener noreferrer">gut</a>p'
    )
    assert listing["items"] == ["<i>eins</i>", "zwei"]
