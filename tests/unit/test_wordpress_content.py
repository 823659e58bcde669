"""WordPress content to our blocks, slugs and old-URL keys: pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime

from cms.articles.redirects import normal_path
from cms.events.contract import Embed, Image, ListBlock, Paragraph, Quote
from cms.importers.wordpress import gutenberg
from cms.importers.wordpress.blocks import Where, convert
from cms.importers.wordpress.mapping import Mapped, Options, Skipped, map_post, wp_slug
from cms.importers.wordpress.shortcodes import attributes
from cms.importers.wordpress.source import Media, Site, SourcePost

SITE = Where("https://news.example")


def test_wpautop_blank_lines_are_paragraphs_and_single_newlines_breaks() -> None:
    """Classic text: a blank line ends a paragraph, a newline inside one is a <br>."""
    body = convert("Eins\nzwei\n\n\nDrei <em>vier</em>", SITE).body

    assert body == [Paragraph(text="Eins<br>zwei"), Paragraph(text="Drei <em>vier</em>")]


def test_bracketed_words_stay_text_and_an_escaped_shortcode_is_shown_as_written() -> None:
    """ "[sic]" and "[1]" are not shortcodes; "[[caption]]" is the text "[caption]"."""
    converted = convert("Er sagte [sic] dies [1]. Mit [[caption]] zeigt man es.", SITE)

    assert converted.body == [Paragraph(text="Er sagte [sic] dies [1]. Mit [caption] zeigt man es.")]
    assert converted.notes == []


def test_caption_with_a_linked_image_keeps_the_caption_and_drops_the_link() -> None:
    """[caption] → one image block whose caption is the text after the image."""
    body = convert(
        '[caption id="a" width="300"]<a href="/big.jpg"><img src="/small.jpg" alt="Alt" /></a>'
        " Unter <b>schrift</b>[/caption]",
        SITE,
    ).body

    assert body == [Image(url="https://news.example/small.jpg", alt="Alt", caption="Unter <b>schrift</b>")]


def test_gallery_without_ids_shows_the_posts_attached_images_and_unknown_ids_are_named() -> None:
    """[gallery] takes the post's own attachments; an id that is not among them is reported."""
    where = Where(
        "https://news.example",
        {1: Media("https://news.example/1.jpg", "eins")},
        [Media("https://news.example/k.jpg")],
    )

    assert convert("[gallery]", where).body == [Image(url="https://news.example/k.jpg", alt="")]
    by_id = convert('[gallery ids="1,7"]', where)
    assert by_id.body == [Image(url="https://news.example/1.jpg", alt="eins")]
    assert by_id.notes == ["gallery image 7 not found among the attachments: left out"]


def test_a_known_provider_link_alone_on_its_line_is_an_embed_but_other_links_stay_text() -> None:
    """WordPress embeds a YouTube URL on its own line; a link to any other site is a paragraph."""
    body = convert("https://youtu.be/abc\n\nhttps://other.example/page", SITE).body

    assert body == [Embed(url="https://youtu.be/abc"), Paragraph(text="https://other.example/page")]


def test_block_grammar_nests_and_keeps_classic_html_between_blocks() -> None:
    """Inner blocks stay inside their parent; text between top-level blocks is a freeform block."""
    blocks = gutenberg.parse(
        "<!-- wp:group --><div><!-- wp:paragraph --><p>a</p><!-- /wp:paragraph --></div><!-- /wp:group -->"
        '\nfrei\n<!-- wp:spacer {"height":"20px"} /-->'
    )

    assert [b.name for b in blocks] == ["core/group", None, "core/spacer"]
    assert [b.name for b in blocks[0].inner] == ["core/paragraph"]
    assert blocks[0].html() == "<div><p>a</p></div>"
    assert blocks[2].attrs == {"height": "20px"}


def test_gutenberg_quote_list_and_unknown_block() -> None:
    """Quote paragraphs join with a break and the cite becomes the attribution; a plugin block
    is kept as its text and named."""
    converted = convert(
        "<!-- wp:quote --><blockquote><p>Eins</p><p>Zwei</p><cite>Sie</cite></blockquote><!-- /wp:quote -->"
        "<!-- wp:list --><ul><li>a</li><li>b <b>c</b></li></ul><!-- /wp:list -->"
        '<!-- wp:acme/poll {"q":1} --><div>Umfrage: Ja oder nein?</div><!-- /wp:acme/poll -->',
        SITE,
    )

    assert converted.body == [
        Quote(text="Eins<br><br>Zwei", attribution="Sie"),
        ListBlock(items=["a", "b <b>c</b>"]),
        Paragraph(text="Umfrage: Ja oder nein?"),
    ]
    assert converted.notes == ["acme/poll has no block here: kept as a paragraph of its text"]


def test_see_also_to_another_site_stays_in_the_body() -> None:
    """Only links into the imported site become related; others are ordinary text."""
    inside = convert('<p>Siehe auch: <a href="https://www.news.example/a/">A</a></p>', SITE)
    outside = convert('<p>Siehe auch: <a href="https://elsewhere.example/a/">A</a></p>', SITE)

    assert inside.body == []
    assert inside.see_also == ["https://www.news.example/a/"]
    assert len(outside.body) == 1
    assert outside.see_also == []


def test_slugs_are_percent_decoded_and_transliterated() -> None:
    """WordPress stores `grüße` as `gr%c3%bc%c3%9fe`; our slug is `gruesse`."""
    assert wp_slug("gr%c3%bc%c3%9fe-aus-k%c3%b6ln") == "gruesse-aus-koeln"
    assert wp_slug("") == ""


def test_shortcode_attributes_in_every_quoting() -> None:
    """Double, single, bare and positional values, as shortcode_parse_atts reads them."""
    assert attributes(' id="5" align=\'left\' width=300 "pos"') == {
        "id": "5", "align": "left", "width": "300", "0": "pos"
    }  # fmt: skip


def test_old_url_keys_ignore_host_slash_and_encoding_but_keep_the_post_id_query() -> None:
    """One key for every spelling of a permalink; `?p=` names a post, other queries do not."""
    key = normal_path("https://news.example/2019/05/gr%C3%BC%C3%9Fe/")
    assert key == normal_path("http://www.news.example/2019/05/grüße")
    assert key == normal_path("/2019/05/gr%c3%bc%c3%9fe/?utm_source=x")
    assert normal_path("/?p=12&utm=1") == "/?p=12"
    assert normal_path("https://news.example/") is None
    assert normal_path("/" + "a" * 3000) is None


def test_statuses_map_and_pages_trash_and_revisions_are_skipped() -> None:
    """publish/future/draft/pending/private map; page, trash, auto-draft and inherit are skipped."""
    site = Site("https://news.example", "de-DE")
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def post(status: str, kind: str = "post") -> SourcePost:
        return SourcePost(1, kind, status, "Titel", "Text", "", "titel", now, None, "", "")

    mapped = {
        s: map_post(post(s), site, Options(), now)
        for s in ("publish", "future", "draft", "pending", "private")
    }
    assert {s: m.incoming.status for s, m in mapped.items() if isinstance(m, Mapped)} == {
        "publish": "published", "future": "scheduled", "draft": "draft", "pending": "in_review",
        "private": "draft",
    }  # fmt: skip
    for status, kind in (("publish", "page"), ("trash", "post"), ("auto-draft", "post"), ("inherit", "post")):
        assert isinstance(map_post(post(status, kind), site, Options(), now), Skipped), (status, kind)
    assert isinstance(map_post(post("publish"), Site("https://x.example", None), Options(), now), Skipped)
