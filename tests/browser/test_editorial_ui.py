"""The editorial UI in a real browser (Debian's headless Chromium) against a real `cms up`:
write, review, schedule and follow an article; two editors on one article; a closed tab; social
review; axe-core on every page; and the editor with the keyboard alone."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx2
from playwright.async_api import Page, expect

from cms.system import SystemSettings
from tests.browser.browser import (
    Browser,
    chromium,
    cms_up,
    ready,
    screenshot,
    serious_violations,
    sign_in,
)
from tests.helpers import bearer, create_draft, eventually, fixture, publish
from tests.integration.consumers.social.fakes import networks
from tests.integration.people import PASSWORD, make_person
from tests.processes import Started

AUTHOR = "autorin@zeitung.example"
EDITOR = "redakteur@zeitung.example"
EDITOR_2 = "chefin@zeitung.example"
ADMIN = "admin@zeitung.example"


async def _people(db: asyncpg.Connection[asyncpg.Record]) -> None:
    await make_person(db, AUTHOR, "author", name="Aurelia Autorin")
    await make_person(db, EDITOR, "editor", name="Eddie Redakteur")
    await make_person(db, EDITOR_2, "editor", name="Chefin Vom Dienst")
    await make_person(db, ADMIN, "admin", name="Ada Admin")


async def _article(up: Started, token: str, article_id: str) -> dict[str, Any]:
    async with httpx2.AsyncClient(base_url=up.url) as client:
        response = await client.get(f"/v1/admin/articles/{article_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _new_article(page: Page, title: str, language: str = "de") -> str:
    await page.click("#new-article")
    await page.fill("#new-headline", title)
    await page.fill("#new-language", language)
    await page.click("#new-form button[value=create]")
    await page.wait_for_url("**/admin/articles/*")
    await ready(page)
    return page.url.rsplit("/", 1)[-1]


async def _add_block(page: Page, kind: str) -> None:
    await page.select_option("#add-type", kind)
    await page.click("#add-block")


async def _type_in_last(page: Page, selector: str, text: str) -> None:
    """Type into the last block's rich-text field, as a person types (no network wait)."""
    await page.locator(f"#blocks > li:last-child {selector}").last.click()
    await page.keyboard.insert_text(text)


async def test_the_whole_editorial_flow_of_the_fixture_article(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], token: dict[str, str]
) -> None:
    """An author writes the fixture article with its blocks, quote and see-also and submits it; an
    editor reviews the diff, schedules it in Berlin time, and sees it live, found and posted."""
    await _people(db)
    article = fixture("article-stabschefs.de.json")
    async with (
        networks() as fakes,
        cms_up(
            settings.model_copy(
                update={"social_channels": fakes.channels("auto", bluesky=False, bridge=False)}
            )
        ) as up,
        chromium() as browser,
    ):
        async with httpx2.AsyncClient(base_url=up.url) as client:
            related = await publish(
                client,
                token["editor"],
                await create_draft(client, token["editor"], **fixture("article-luxusgueter.de.json")),
            )
            await eventually(lambda: _searchable(client, "Luxusgüter"), within=20)

        page = await browser.page()
        await sign_in(page, up.url, AUTHOR, PASSWORD)
        await screenshot(page, "article-list")
        article_id = await _new_article(page, article["title"])
        await page.fill("#lead", article["lead"])
        await page.fill("#section", article["section"])
        await page.fill("#tags", ", ".join(article["tags"]))
        await page.fill("#related-search", "Luxusgüter")
        await page.click("#related-results button")
        for block in article["body"]:
            await _add_block(page, block["type"])
            if block["type"] == "heading":
                await page.locator("#blocks > li:last-child select").select_option(str(block["level"]))
            await _type_in_last(page, ".inline-editor", block["text"])
            if block["type"] == "quote":
                await page.locator("#blocks > li:last-child input.attribution").fill(block["attribution"])
        await page.click("#save")
        await expect(page.locator("#save-state")).to_contain_text("Saved as version 2")
        await screenshot(page, "editor")
        await page.click("[data-action=submit]")
        await expect(page.locator("#status-chip")).to_have_text("in review")

        saved = await _article(up, token["editor"], article_id)
        assert saved["body"] == article["body"]
        assert saved["tags"] == article["tags"]
        assert saved["related"] == [related["id"]]
        assert saved["status"] == "in_review"

        await page.click("#sign-out")
        await page.wait_for_url("**/admin/signin")
        await sign_in(page, up.url, EDITOR, PASSWORD)
        await page.select_option("#f-status", "in_review")
        await page.click("#filters button[type=submit]")
        await page.click(f"#rows a[href='/admin/articles/{article_id}']")
        await ready(page)
        await expect(page.locator("#lock-banner")).to_be_hidden()  # the author's sign-out let it go
        await page.locator("#history li", has_text="v2").get_by_role("button", name="Diff").click()
        await expect(page.locator("#diff")).to_contain_text("Version 1 → 2")
        await expect(page.locator("#diff ins").first).to_be_visible()
        await screenshot(page, "editor-diff")

        at = datetime.now(ZoneInfo("Europe/Berlin")).replace(microsecond=0) + timedelta(seconds=6)
        await page.select_option("#schedule-tz", "Europe/Berlin")
        await page.fill("#schedule-at", at.strftime("%Y-%m-%dT%H:%M:%S"))
        await expect(page.locator("#schedule-utc")).to_contain_text(
            at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        )
        await page.click("[data-action=schedule]")
        await expect(page.locator("#status-chip")).to_have_text("scheduled")
        scheduled = await _article(up, token["editor"], article_id)
        assert datetime.fromisoformat(scheduled["publish_at"]) == at.astimezone(UTC)

        distribution = page.locator("#distribution")
        await expect(distribution).to_contain_text("live, version", timeout=30_000)
        await expect(distribution.locator(".post[data-status=sent]")).to_contain_text(
            "mastodon", timeout=30_000
        )
        await expect(distribution).to_contain_text("indexed", timeout=30_000)
        await expect(page.locator("#status-chip")).to_have_text("published")
        await screenshot(page, "distribution")
        assert fakes.mastodon.calls_to("/api/v1/statuses")

        # The full text of live articles: the search hit with its marked snippet.
        await page.goto(f"{up.url}/admin/?q=Stabschefs&fulltext=1")
        await ready(page)
        await expect(page.locator("#rows")).to_contain_text(article["title"])
        await expect(page.locator("#rows mark").first).to_be_visible()
        assert browser.errors == []


async def _searchable(client: httpx2.AsyncClient, q: str) -> bool:
    response = await client.get("/v1/search", params={"q": q})
    return bool(response.status_code == 200 and response.json()["items"])


async def _open(browser: Browser, up: Started, email: str, article_id: str) -> Page:
    page = await browser.page()
    await sign_in(page, up.url, email, PASSWORD)
    await page.goto(f"{up.url}/admin/articles/{article_id}")
    await ready(page)
    return page


async def test_two_editors_on_one_article_lock_take_over_and_a_412_merged_per_field(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], token: dict[str, str]
) -> None:
    """The second editor sees the lock and takes over; the first is told; a stale save is a 412
    whose merge view keeps their title and my lead, and nothing else is lost."""
    await _people(db)
    async with cms_up(settings) as up:
        async with httpx2.AsyncClient(base_url=up.url) as client:
            draft = await create_draft(client, token["editor"], title="Erster Titel", lead="Erster Vorspann")
        async with chromium() as first_browser, chromium() as second_browser:
            first = await _open(first_browser, up, EDITOR, draft["id"])
            await expect(first.locator("#lock-banner")).to_be_hidden()
            second = await _open(second_browser, up, EDITOR_2, draft["id"])
            await expect(second.locator("#lock-banner")).to_be_visible()
            await expect(second.locator("#lock-text")).to_contain_text(EDITOR)
            await screenshot(second, "editor-lock")

            await second.click("#take-over")
            await expect(second.locator("#lock-banner")).to_be_hidden()
            await second.fill("#title", "Titel der Chefin")
            await second.click("#save")
            await expect(second.locator("#save-state")).to_contain_text("Saved as version 2")

            await first.fill("#lead", "Mein neuer Vorspann")
            await first.click("#save")
            await expect(first.locator("#lock-banner")).to_be_visible()
            await expect(first.locator("#lock-text")).to_contain_text(EDITOR_2)
            unchanged = await _article(up, token["editor"], draft["id"])
            assert unchanged["version"] == 2
            assert unchanged["lead"] == "Erster Vorspann"

            await first.click("#take-over")
            await expect(first.locator("#lock-banner")).to_be_hidden()
            await first.click("#save")
            merge = first.locator("#merge")
            await expect(merge).to_be_visible()
            await expect(merge).to_contain_text("Titel der Chefin")
            await expect(merge).to_contain_text("Mein neuer Vorspann")
            await screenshot(first, "editor-merge")
            await merge.locator("fieldset", has_text="title").get_by_label("Theirs").check()
            await first.click("#merge-apply")
            await expect(first.locator("#save-state")).to_contain_text("Saved as version 3")
            assert first_browser.errors == []
            assert second_browser.errors == []
        merged = await _article(up, token["editor"], draft["id"])

    assert merged["title"] == "Titel der Chefin"
    assert merged["lead"] == "Mein neuer Vorspann"
    assert merged["version"] == 3


async def test_a_tab_closed_mid_edit_offers_the_text_back(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], token: dict[str, str]
) -> None:
    """Text typed and autosaved, then the tab closed without saving: the next visit offers it and
    restores it; the article itself never changed until the author saves."""
    await _people(db)
    async with cms_up(settings) as up, chromium() as browser:
        page = await browser.page()
        await sign_in(page, up.url, AUTHOR, PASSWORD)
        article_id = await _new_article(page, "Ein Entwurf")
        await _add_block(page, "paragraph")
        await page.keyboard.type("Nicht verlieren: dieser Absatz.")
        await expect(page.locator("#save-state")).to_contain_text("Autosaved", timeout=10_000)
        await page.close()

        untouched = await _article(up, token["editor"], article_id)
        assert untouched["body"] == []
        assert untouched["version"] == 1

        again = await _open(browser, up, AUTHOR, article_id)
        await expect(again.locator("#restore-banner")).to_be_visible()
        await screenshot(again, "editor-restore")
        await again.click("#restore-copy")
        await expect(again.locator("#blocks .inline-editor")).to_have_text("Nicht verlieren: dieser Absatz.")
        await again.click("#save")
        await expect(again.locator("#save-state")).to_contain_text("Saved as version 2")
        assert browser.errors == []
        saved = await _article(up, token["editor"], article_id)

    assert saved["body"] == [{"type": "paragraph", "text": "Nicht verlieren: dieser Absatz."}]


async def test_a_social_post_is_approved_with_edited_text_in_review_mode(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], token: dict[str, str]
) -> None:
    """In review mode the post waits in the distribution panel; the editor edits and approves it,
    the network receives the edited text, and the panel shows it sent without a reload; then the
    in-page preview and a preview link, and a kill that a cancelled confirmation did not do."""
    await _people(db)
    async with (
        networks() as fakes,
        cms_up(
            settings.model_copy(
                update={"social_channels": fakes.channels("review", bluesky=False, bridge=False)}
            )
        ) as up,
        chromium() as browser,
    ):
        async with httpx2.AsyncClient(base_url=up.url) as client:
            article = await publish(
                client,
                token["editor"],
                await create_draft(client, token["editor"], **fixture("article-stabschefs.de.json")),
            )
        page = await _open(browser, up, EDITOR, article["id"])
        post = page.locator("#distribution .post[data-status=ready]")
        await expect(post).to_be_visible(timeout=30_000)
        assert fakes.mastodon.calls_to("/api/v1/statuses") == []
        await post.locator("textarea").fill("Stabschefs der USA und Russlands telefonieren: unser Bericht")
        await screenshot(page, "social-review")
        await post.get_by_role("button", name="Approve mastodon post").click()
        await expect(page.locator("#distribution .post[data-status=sent]")).to_be_visible(timeout=20_000)

        await page.click("#preview-toggle")
        await expect(page.locator("#preview h1")).to_have_text(article["title"])
        await expect(page.locator("#preview blockquote footer")).to_contain_text("John Kirby")
        await page.click("#preview-link")
        await expect(page.locator("#preview-url")).to_contain_text("/v1/preview/")

        await page.click("[data-action=kill]")
        await expect(page.locator("#confirm-text")).to_contain_text("only an admin can bring it back")
        await page.click("#confirm button[value=cancel]")
        await expect(page.locator("#status-chip")).to_have_text("published")  # cancelled: nothing done
        await page.click("[data-action=kill]")
        await page.fill("#confirm-field", "Einstweilige Verfügung")
        await page.click("#confirm-ok")
        await expect(page.locator("#status-chip")).to_have_text("killed")
        assert browser.errors == []
        killed = await _article(up, token["editor"], article["id"])

    assert killed["status"] == "killed"
    calls = fakes.mastodon.calls_to("/api/v1/statuses")
    assert len(calls) == 1
    assert "Stabschefs der USA und Russlands telefonieren: unser Bericht" in str(calls[0].body)


async def test_every_page_passes_axe_and_the_editor_works_with_the_keyboard_alone(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], token: dict[str, str]
) -> None:
    """axe-core finds no serious or critical violation on any page (the list searching a draft, the
    operators' page showing a parked event, unparked by its button); with keys only an editor adds
    blocks, formats bold and a link, moves a block and saves exactly the API's inline HTML."""
    await _people(db)
    async with cms_up(settings) as up, chromium() as browser:
        async with httpx2.AsyncClient(base_url=up.url) as client:
            draft = await create_draft(client, token["editor"], title="Tastatur", lead="Nur Tasten")
        page = await browser.page()
        await page.goto(f"{up.url}/admin/signin")
        await screenshot(page, "signin")
        found = {"signin": await serious_violations(page)}
        await sign_in(page, up.url, ADMIN, PASSWORD)
        await page.fill("#f-q", "tastat")  # a piece of a draft's title: the list finds drafts too
        await page.select_option("#f-sort", "title")
        await page.click("#filters button[type=submit]")
        await expect(page.locator("#rows tr")).to_have_count(1)
        await expect(page.locator("#rows")).to_contain_text("Tastatur")
        found["list"] = await serious_violations(page)
        await db.execute(
            "UPDATE outbox SET sent_at = NULL, parked_at = now(), parked_reason = 'refused by the broker'"
            " WHERE article_id = $1",
            uuid.UUID(draft["id"]),
        )
        await page.goto(f"{up.url}/admin/operators")
        await ready(page)
        await expect(page.locator("#dead-letters [data-consumer=search]")).to_contain_text("0 dead letter(s)")
        await expect(page.locator("#users")).to_contain_text(AUTHOR)
        await expect(page.locator("#parked")).to_contain_text("refused by the broker")
        await screenshot(page, "operators")
        found["operators"] = await serious_violations(page)
        await page.get_by_role("button", name="Unpark all 1").click()
        await expect(page.locator("#parked-total")).to_contain_text("0 parked event(s)")
        assert await db.fetchval("SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL") == 0
        await page.goto(f"{up.url}/admin/articles/{draft['id']}")
        await ready(page)
        found["editor"] = await serious_violations(page)
        assert found == {"signin": [], "list": [], "operators": [], "editor": []}

        await page.focus("#title")
        await page.keyboard.press("End")
        await page.keyboard.type(" mit Tasten")
        await _tab_to(page, "#add-block")
        await page.keyboard.press("Enter")  # a paragraph, the type chosen by default
        await page.keyboard.type("Erster ")
        await page.keyboard.press("Control+b")
        await page.keyboard.type("fett")
        await page.keyboard.press("Control+b")
        await page.keyboard.type(" und ")
        await page.keyboard.type("verlinkt")
        for _ in "verlinkt":
            await page.keyboard.press("Shift+ArrowLeft")
        page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept("https://zeitung.example/a")))
        await page.keyboard.press("Control+k")
        await _tab_to(page, "#add-block")
        await page.keyboard.press("Enter")
        await page.keyboard.type("Zweiter Absatz")
        await _tab_to(page, "#blocks > li:nth-child(2) .block-controls button:first-child")
        await page.keyboard.press("Enter")  # Move up
        await _tab_to(page, "#save")
        await page.keyboard.press("Enter")
        await expect(page.locator("#save-state")).to_contain_text("Saved as version 2")
        assert browser.errors == []
        saved = await _article(up, token["editor"], draft["id"])

    assert saved["title"] == "Tastatur mit Tasten"
    assert saved["body"] == [
        {"type": "paragraph", "text": "Zweiter Absatz"},
        {
            "type": "paragraph",
            "text": "Erster <strong>fett</strong> und "
            '<a href="https://zeitung.example/a" rel="noopener noreferrer">verlinkt</a>',
        },
    ]


async def _tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until `selector` has the focus (the Enter that follows is the keyboard's click)."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("s => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def test_publish_now_correct_unpublish_and_restore_a_revision_from_the_history(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], token: dict[str, str]
) -> None:
    """The editor's other workflow buttons do what the API does: publish now, a correction readers
    see, unpublish, and version 1 restored from the history as a new version."""
    await _people(db)
    async with cms_up(settings) as up, chromium() as browser:
        page = await browser.page()
        await sign_in(page, up.url, EDITOR, PASSWORD)
        article_id = await _new_article(page, "Arbeitsablauf")
        await page.click("[data-action=publish]")
        await expect(page.locator("#status-chip")).to_have_text("published")
        await page.click("[data-action=correct]")
        await page.fill("#confirm-field", "Korrigiert: der Name des Sprechers")
        await page.click("#confirm-ok")
        await expect(page.locator("#flash")).to_contain_text("version 3")
        await page.click("[data-action=unpublish]")
        await expect(page.locator("#status-chip")).to_have_text("unpublished")
        await page.get_by_role("button", name="Restore version 1").click()
        await expect(page.locator("#flash")).to_contain_text("Version 1 restored as version 5")
        assert browser.errors == []
        final = await _article(up, token["editor"], article_id)

    assert final["version"] == 5
    assert final["corrections"][0]["note"] == "Korrigiert: der Name des Sprechers"
    assert final["status"] == "unpublished"  # a restore brings back the text, not the live state
