"""Importing a WordPress export: every mapping, idempotence, hostile files, redirects."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx2

from cms.importers.wordpress.from_file import import_wxr
from cms.importers.wordpress.mapping import Options
from cms.system import SystemSettings
from tests.integration.importers.wordpress import NEWSROOM, articles_by_slug, footprint, variant


async def test_each_post_is_mapped_by_status_date_slug_section_and_blocks(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Published keeps its dates, future is scheduled, private a draft, pending in review; the
    page and the trash are skipped with their reasons; slugs are decoded and transliterated."""
    report = await import_wxr(settings, NEWSROOM, Options())

    assert report.refused is None
    assert report.counts() == {"imported": 6, "updated": 0, "unchanged": 0, "skipped": 2}
    skipped = {line.post_id: line.reason for line in report.lines if line.outcome == "skipped"}
    assert skipped == {105: "a page, not a post", 107: "in the trash"}
    assert report.ignored == {"attachment": 2}
    found = await articles_by_slug(db)
    assert set(found) == {
        "luxusgueter-export", "stabschefs", "wahlabend", "redaktionsplan", "gruesse-aus-koeln", "zur-pruefung"
    }  # fmt: skip
    classic = found["luxusgueter-export"]
    assert classic["status"] == "published"
    assert classic["published_at"] == classic["first_published_at"] == datetime(2022, 3, 15, 9, tzinfo=UTC)
    assert classic["language"] == "de"
    assert classic["section"] == "wirtschaft"
    assert classic["tags"] == ["russland", "sanktionen"]
    assert classic["authors"] == ["Maria Müller"]
    assert classic["lead"] == "Brüssel schärft die Sanktionen nach."
    assert classic["post_to_social"] is True
    assert [b["type"] for b in classic["body"]] == [
        "image", "paragraph", "image", "image", "image", "embed", "paragraph"
    ]  # fmt: skip
    assert classic["body"][0]["alt"] == "Das Berlaymont-Gebäude"  # the featured image first
    assert classic["body"][1]["text"].endswith("Russland verboten.<br>Das gilt ab sofort.")
    assert classic["body"][2]["caption"] == "Die EU-Kommission in Brüssel"
    assert classic["body"][5]["url"] == "https://www.youtube.com/watch?v=abc123"
    assert classic["body"][6]["text"] == "Ware | Wert"
    gutenberg = found["stabschefs"]
    assert gutenberg["section"] == "welt"  # Yoast's primary category, not the first
    assert [b["type"] for b in gutenberg["body"]] == [
        "paragraph", "heading", "quote", "list", "image", "embed", "quote", "paragraph"
    ]  # fmt: skip
    assert gutenberg["body"][2] == {
        "type": "quote",
        "text": "auf einen sofortigen Waffenstillstand gedrängt",
        "attribution": "Pentagon-Sprecher John Kirby",
    }
    assert gutenberg["body"][3] == {"type": "list", "items": ["Milley", "Gerasimow"], "ordered": True}
    assert gutenberg["body"][4]["url"] == "https://tagesblatt.example/wp-content/uploads/2022/05/pentagon.jpg"
    assert gutenberg["body"][4]["caption"] == "Das Pentagon in <em>Arlington</em>"
    assert not any("Siehe auch" in str(b) for b in gutenberg["body"])
    assert gutenberg["related"] == [classic["id"]]
    assert found["wahlabend"]["status"] == "scheduled"
    assert found["wahlabend"]["publish_at"] == datetime(2090, 1, 1, 18, tzinfo=UTC)
    assert found["wahlabend"]["published_at"] is None
    assert found["wahlabend"]["section"] is None  # "Uncategorized" is no section
    assert found["redaktionsplan"]["status"] == "draft"
    assert found["zur-pruefung"]["status"] == "in_review"
    emoji = found["gruesse-aus-koeln"]
    assert emoji["title"] == "Grüße aus Köln 🎉 zum Karneval"
    assert emoji["body"] == [{"type": "paragraph", "text": "Alaaf! 🎉 Der Zug zieht durch die Straßen."}]


async def test_what_cannot_be_mapped_is_kept_as_text_and_reported_per_post(settings: SystemSettings) -> None:
    """A table, a form shortcode, a plugin block and a separator are each named for their post."""
    report = await import_wxr(settings, NEWSROOM, Options())

    notes = {line.post_id: line.notes for line in report.lines}
    assert "<table> has no block here: kept as a paragraph of its text" in notes[101]
    assert "shortcode [contact-form-7] has no block here: its text kept" in notes[101]
    assert "jetpack/map has no block here: kept as a paragraph of its text" in notes[102]
    assert "core/separator left out (layout only, no text)" in notes[102]
    assert 106 not in notes  # nothing to say: counted, not listed
    text = report.as_text()
    assert "6 imported, 0 updated, 0 unchanged, 2 skipped" in text
    assert "105 'Impressum': a page, not a post" in text
    assert report.as_json()["counts"]["imported"] == 6


async def test_events_flow_as_for_any_write(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """A live import is one `published` event, the rest `created`; related is an `updated`."""
    await import_wxr(settings, NEWSROOM, Options())

    rows = await db.fetch(
        "SELECT a.slug, o.event_type, o.payload->>'actor' AS actor FROM outbox o"
        " JOIN articles a ON a.id = o.article_id ORDER BY o.sequence"
    )
    events = [(row["slug"], row["event_type"]) for row in rows]
    # Posts are written side by side, in any order; "see also" is set once they are all in.
    assert sorted(events[:-1]) == [
        ("gruesse-aus-koeln", "cms.article.published"),
        ("luxusgueter-export", "cms.article.published"),
        ("redaktionsplan", "cms.article.created"),
        ("stabschefs", "cms.article.published"),
        ("wahlabend", "cms.article.created"),
        ("zur-pruefung", "cms.article.created"),
    ]
    assert events[-1] == ("stabschefs", "cms.article.updated")
    assert {row["actor"] for row in rows} == {"system:wordpress-import"}


async def test_a_second_run_changes_nothing(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """The same file again: every post unchanged, not one new article, revision, event or redirect."""
    await import_wxr(settings, NEWSROOM, Options())
    before = await footprint(db)

    rows = await db.fetch("SELECT post_id, content_hash, imported_at FROM wordpress_posts ORDER BY 1")

    again = await import_wxr(settings, NEWSROOM, Options())

    assert again.counts() == {"imported": 0, "updated": 0, "unchanged": 6, "skipped": 2}
    assert again.related_set == 0
    assert await footprint(db) == before
    # Not even the mapping rows were written again (post 108 has no date: the hash holds anyway).
    assert await db.fetch("SELECT post_id, content_hash, imported_at FROM wordpress_posts ORDER BY 1") == rows


async def test_a_post_without_a_date_keeps_the_date_of_its_first_import(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], tmp_path: Path
) -> None:
    """A published post whose export has no date is dated at the first import; a later run
    neither moves that date nor writes anything."""
    undated = variant(
        tmp_path,
        "undated.wxr",
        [("<wp:status><![CDATA[pending]]></wp:status>", "<wp:status><![CDATA[publish]]></wp:status>")],
    )
    first = await import_wxr(settings, undated, Options())
    published_at = (await articles_by_slug(db))["zur-pruefung"]["published_at"]
    before = await footprint(db)

    again = await import_wxr(settings, undated, Options())

    assert published_at is not None
    assert any("no publication date" in note for line in first.lines for note in line.notes)
    assert again.counts()["unchanged"] == 6
    assert (await articles_by_slug(db))["zur-pruefung"]["published_at"] == published_at
    assert await footprint(db) == before


async def test_a_changed_post_is_updated_in_place(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], tmp_path: Path
) -> None:
    """A post edited in WordPress updates its article (one new version and event), nothing else."""
    await import_wxr(settings, NEWSROOM, Options())
    before = await footprint(db)
    changed = variant(tmp_path, "changed.wxr", [("Alaaf! 🎉", "Kölle Alaaf! 🎉")])

    report = await import_wxr(settings, changed, Options())

    assert report.counts() == {"imported": 0, "updated": 1, "unchanged": 5, "skipped": 2}
    after = await footprint(db)
    assert after["articles"] == before["articles"]
    assert after["outbox"] == before["outbox"] + 1
    article = (await articles_by_slug(db))["gruesse-aus-koeln"]
    assert article["body"][0]["text"].startswith("Kölle Alaaf!")
    assert article["version"] == 2
    assert article["published_at"] == datetime(2023, 2, 20, 11, 11, tzinfo=UTC)


async def test_an_edit_made_in_the_cms_is_not_overwritten(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], tmp_path: Path
) -> None:
    """Once an editor changed an imported article here, a later import leaves it and says why."""
    await import_wxr(settings, NEWSROOM, Options())
    await db.execute(
        "UPDATE articles SET title = 'Redigiert', version = version + 1 WHERE slug = 'wahlabend'"
    )
    changed = variant(tmp_path, "changed.wxr", [("Die Ergebnisse kommen", "Die Resultate kommen")])

    report = await import_wxr(settings, changed, Options())

    line = next(line for line in report.lines if line.post_id == 103)
    assert line.outcome == "skipped"
    assert line.reason is not None
    assert "changed in the CMS since the import" in line.reason
    assert (await articles_by_slug(db))["wahlabend"]["title"] == "Redigiert"


async def test_no_social_marks_every_imported_article_and_its_events(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """--no-social: each article, and so each event, says social networks get no post for it."""
    await import_wxr(settings, NEWSROOM, Options(post_to_social=False))

    assert await db.fetchval("SELECT count(*) FROM articles WHERE post_to_social") == 0
    flags = await db.fetch("SELECT payload->'data'->'post_to_social' AS flag FROM outbox")
    assert flags
    assert {row["flag"] for row in flags} == {False}


async def test_old_permalinks_answer_301_to_the_new_url(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], api: httpx2.AsyncClient
) -> None:
    """The permalink (any spelling of its path) and the ?p= shortlink lead to the live article;
    a draft's old URL and an unknown one are 404."""
    await import_wxr(settings, NEWSROOM, Options())

    for path in (
        "/2022/03/luxusgueter-export/",
        "https://tagesblatt.example/2022/03/luxusgueter-export",
        "/?p=101",
    ):
        response = await api.get("/v1/content/redirects", params={"path": path})
        assert response.status_code == 301, path
        assert response.headers["location"] == "http://127.0.0.1:8000/wirtschaft/luxusgueter-export"
        assert response.json()["slug"] == "luxusgueter-export"
    umlaut = await api.get("/v1/content/redirects", params={"path": "/2023/02/grüße-aus-koeln/"})
    assert umlaut.headers["location"] == "http://127.0.0.1:8000/welt/gruesse-aus-koeln"
    for missing in ("/?p=104", "/2099/nothing/", "/"):
        response = await api.get("/v1/content/redirects", params={"path": missing})
        assert response.status_code == 404, missing
        assert response.headers["content-type"] == "application/problem+json"
    assert (await api.get("/v1/content/redirects")).status_code == 422


HOSTILE = {
    "billion laughs": """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>
<item><title>&lol3;</title><wp:post_id>1</wp:post_id><wp:post_type>post</wp:post_type>
<wp:status>publish</wp:status></item></channel></rss>""",
    "external entity": """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>
<item><title>&secret;</title><wp:post_id>1</wp:post_id><wp:post_type>post</wp:post_type>
<wp:status>publish</wp:status></item></channel></rss>""",
}


async def test_hostile_or_broken_files_are_refused_and_change_nothing(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], tmp_path: Path
) -> None:
    """Entity expansion, an external entity, a huge node, a broken tail and a file that is no
    export are each refused with a reason, before a single row is written."""
    files = {name: text for name, text in HOSTILE.items()}
    # A good post first, then a 12 MB text node: the good one must not be written either.
    huge = NEWSROOM.read_text(encoding="utf-8").replace(
        "<wp:post_id>108</wp:post_id>",
        "<wp:post_id>108</wp:post_id><wp:huge>" + "a" * 12_000_000 + "</wp:huge>",
    )
    files["huge node"] = huge
    files["cut off"] = NEWSROOM.read_text(encoding="utf-8")[:-200]
    files["not an export"] = "<rss><channel><title>x</title></channel></rss>"
    reasons = {}
    for name, text in files.items():
        path = tmp_path / f"{name}.xml"
        path.write_text(text, encoding="utf-8")
        report = await import_wxr(settings, path, Options())
        assert report.refused is not None, name
        assert report.lines == [], name
        reasons[name] = report.refused

    assert "DOCTYPE" in reasons["billion laughs"]
    assert "DOCTYPE" in reasons["external entity"]
    assert "10 MB" in reasons["huge node"]
    assert "not a well-formed, safe XML file" in reasons["cut off"]
    assert "not a WordPress export" in reasons["not an export"]
    assert set((await footprint(db)).values()) == {0}


async def test_wxr_1_0_and_the_https_namespace_spelling_import_alike(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], tmp_path: Path
) -> None:
    """The same posts exported as WXR 1.0 (tags as domain="tag", categories without a domain)
    and with https:// namespaces become the same articles as the 1.2 file."""
    https = variant(
        tmp_path,
        "https.wxr",
        [
            ('xmlns:wp="http://wordpress.org/export/1.2/"', 'xmlns:wp="https://wordpress.org/export/1.2/"'),
            (
                'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"',
                'xmlns:excerpt="https://wordpress.org/export/1.2/excerpt/"',
            ),
        ],
    )
    old = variant(
        tmp_path,
        "wxr10.wxr",
        [
            ("export/1.2/", "export/1.0/"),
            ("<wp:wxr_version>1.2</wp:wxr_version>", "<wp:wxr_version>1.0</wp:wxr_version>"),
            ('domain="post_tag"', 'domain="tag"'),
            (
                '<category domain="category" nicename="wirtschaft"><![CDATA[Wirtschaft]]></category>',
                "<category><![CDATA[Wirtschaft]]></category>"
                '<category domain="category" nicename="wirtschaft"><![CDATA[Wirtschaft]]></category>',
            ),
        ],
    )
    reference = await import_wxr(settings, NEWSROOM, Options())
    expected = await articles_by_slug(db)

    for path in (https, old):
        report = await import_wxr(settings, path, Options())
        assert report.refused is None, path.name
        assert report.counts() == {"imported": 0, "updated": 0, "unchanged": 6, "skipped": 2}, path.name
    assert reference.counts()["imported"] == 6
    assert await articles_by_slug(db) == expected


async def test_posts_sharing_a_guid_are_two_articles(
    settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record], tmp_path: Path
) -> None:
    """GUIDs are not unique in real exports (WordPress's own theme test data repeats some): the
    key is the post id, so two posts with one GUID stay two articles, run after run."""
    shared = variant(
        tmp_path,
        "shared-guid.wxr",
        [
            (
                '<guid isPermaLink="false">https://tagesblatt.example/?p=104</guid>',
                '<guid isPermaLink="false">https://tagesblatt.example/?p=103</guid>',
            )
        ],
    )

    first = await import_wxr(settings, shared, Options())
    again = await import_wxr(settings, shared, Options())

    assert first.counts()["imported"] == 6
    assert again.counts()["unchanged"] == 6
    slugs = set(await articles_by_slug(db))
    assert {"wahlabend", "redaktionsplan"} <= slugs
    assert len(slugs) == 6
