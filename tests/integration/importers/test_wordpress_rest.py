"""Importing from a live site's REST API: paged, authenticated, interrupted and resumed."""

from __future__ import annotations

import time

import asyncpg
import httpx2

from cms.importers.wordpress.mapping import Options
from cms.importers.wordpress.rest import Client, import_rest
from cms.system import SystemSettings
from tests.integration.importers.fake_wordpress import PASSWORD, SITE, USER, FakeWordPress
from tests.integration.importers.wordpress import articles_by_slug, footprint


async def test_an_interrupted_rest_import_resumes_at_the_page_it_stopped_on(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Page 2 of 3 fails past the retries: the run stops there with pages 1 written; the next
    run starts at page 2 (page 1 is not read again) and ends with every post, once."""
    fake = FakeWordPress(failing_pages={2: 3})
    transport = httpx2.ASGITransport(app=fake.app())

    first = await import_rest(
        settings, SITE, Options(), credentials=(USER, PASSWORD), rate=1000, transport=transport, per_page=2
    )
    assert first.interrupted is not None
    assert "page 2" in first.interrupted
    assert first.counts()["imported"] == 2
    assert await db.fetchval("SELECT next_page FROM wordpress_checkpoints") == 2
    fake.requests.clear()

    second = await import_rest(
        settings, SITE, Options(), credentials=(USER, PASSWORD), rate=1000, transport=transport, per_page=2
    )

    assert second.interrupted is None
    assert second.refused is None
    assert second.counts() == {"imported": 3, "updated": 0, "unchanged": 0, "skipped": 0}
    pages = [query["page"] for path, query in fake.requests if path.endswith("/posts")]
    assert pages == ["2", "3"]
    assert all(query.get("status") == "any" for path, query in fake.requests if path.endswith("/posts"))
    assert await db.fetchval("SELECT count(*) FROM wordpress_checkpoints") == 0
    found = await articles_by_slug(db)
    assert {slug: a["status"] for slug, a in found.items()} == {
        "erster": "published", "zweiter": "published", "dritter": "draft", "vierter": "draft",
        "fuenfter": "scheduled",
    }  # fmt: skip
    first_post = found["erster"]
    assert first_post["language"] == "de"  # from the site's settings, read as the user
    assert first_post["section"] == "politik"
    assert first_post["tags"] == ["wahl"]
    assert first_post["authors"] == ["Jana Doe"]
    assert first_post["body"][0] == {
        "type": "image", "url": f"{SITE}/wp-content/uploads/bild.jpg", "alt": "Ein Bild",
        "caption": "Bildunterschrift", "credit": None,
    }  # fmt: skip
    assert found["zweiter"]["related"] == [first_post["id"]]


async def test_a_second_rest_run_changes_nothing(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Without a user only published posts are read, with --language; run twice, written once."""
    fake = FakeWordPress()
    transport = httpx2.ASGITransport(app=fake.app())
    first = await import_rest(settings, SITE, Options(language="de"), rate=1000, transport=transport)
    before = await footprint(db)

    again = await import_rest(settings, SITE, Options(language="de"), rate=1000, transport=transport)

    assert first.counts()["imported"] == 2
    assert again.counts() == {"imported": 0, "updated": 0, "unchanged": 2, "skipped": 0}
    assert await footprint(db) == before
    assert not any("authorization" in str(query) for _, query in fake.requests)
    assert all("status" not in query for path, query in fake.requests if path.endswith("/posts"))


async def test_a_site_without_a_public_language_needs_the_flag(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """No user, no --language: refused with the reason, and nothing is written."""
    transport = httpx2.ASGITransport(app=FakeWordPress().app())

    report = await import_rest(settings, SITE, Options(), rate=1000, transport=transport)

    assert report.refused is not None
    assert "--language" in report.refused
    assert set((await footprint(db)).values()) == {0}


async def test_requests_are_paced_to_the_rate_asked_for() -> None:
    """At 20 requests a second, six requests take at least a quarter of a second."""
    fake = FakeWordPress()
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=fake.app())) as http:
        client = Client(http, f"{SITE}/wp-json/wp/v2", rate=20)
        started = time.monotonic()
        for _ in range(6):
            response = await client.get("/tags")
            assert response.status_code == 200
        elapsed = time.monotonic() - started

    assert elapsed >= 0.25
    assert len(fake.requests) == 6
