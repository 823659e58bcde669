"""Composing social posts: within each network's limit as that network counts, the URL whole,
never a grapheme cut, shortened only after a whole word; facets on the right UTF-8 bytes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms.events.contract import Article
from consumers.social import compose, counting, richtext, tid
from consumers.social.compose import ELLIPSIS, Story
from consumers.social.counting import Profile, graphemes
from consumers.social.remote import retry_after
from tests.helpers import fixture

PROFILES = [counting.mastodon(), counting.mastodon(100), counting.BLUESKY, counting.X_STYLE]

# ---- words in many scripts ----

LATIN = st.text(alphabet="abcdeéèêëàâäçîïôöûüñßøåæœłśźżčřšžőűă", min_size=1, max_size=12)
DECOMPOSED = st.builds(lambda w: w + "e\u0301" + w, LATIN)  # é as e + combining acute
GERMAN = st.sampled_from(
    [
        "Donaudampfschifffahrtsgesellschaftskapitän",
        "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz",
        "Kraftfahrzeug-Haftpflichtversicherung",
        "Grundstücksverkehrsgenehmigungszuständigkeitsübertragungsverordnung",
        "Stabschefs",
        "Luxusgütern",
        "„Zvezda“",
        "Straße,",
    ]
)
CJK = st.text(alphabet="日本語中文漢字新聞記者政府東京北京ひらがなカタカナ、。", min_size=1, max_size=30)
EMOJI = st.sampled_from(
    [
        "👍🏽",  # skin tone
        "👩🏾‍💻",  # skin tone + ZWJ
        "👨‍👩‍👧‍👦",  # ZWJ family
        "🏳️‍🌈",  # flag with VS16 + ZWJ
        "🇩🇪",  # regional indicators
        "❤️",
        "1️⃣",  # keycap
        "क्षि",  # Devanagari conjunct: one grapheme
    ]
)
WORD = st.one_of(LATIN, DECOMPOSED, GERMAN, CJK, EMOJI, st.text(min_size=1, max_size=8))
SPACE = st.sampled_from([" ", " ", " ", "  ", "\n", "\u00a0", "\u3000"])


@st.composite
def prose(draw: st.DrawFn, max_words: int) -> str:
    words = draw(st.lists(WORD, max_size=max_words))
    out = ""
    for word in words:
        out += word + draw(SPACE)
    return out


URL = st.builds(
    lambda host, segments: f"https://{host}/" + "/".join(segments),
    st.sampled_from(["example.org", "www.zeitung.example", "news.example.co.uk"]),
    st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=40), max_size=4),
)
PERCENT_URL = st.builds(
    lambda base, word: base + "/" + quote(word, safe=""), URL, st.one_of(LATIN, CJK, EMOJI)
)
TAGS = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=30), max_size=8
)
STORIES = st.builds(
    Story,
    title=prose(30),
    lead=prose(120),
    url=st.one_of(URL, PERCENT_URL),
    tags=st.builds(tuple, TAGS),
)

# ---- properties ----


def _shortened_correctly(original: str, part: str) -> None:
    """`part` is `original` whole, or a prefix of it ending after a whole word plus "…"."""
    if part in ("", original):
        return
    assert part.endswith(ELLIPSIS)
    prefix = graphemes(part[: -len(ELLIPSIS)])
    whole = graphemes(original)
    assert prefix, part
    assert whole[: len(prefix)] == prefix, "cut inside a grapheme or not a prefix"
    assert graphemes(part) == [*prefix, ELLIPSIS], "the ellipsis fused with a grapheme"
    following = whole[len(prefix)]
    at_space_or_punctuation = bool(regex.fullmatch(r"[\s\p{P}]+", following))
    ideographic = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Ideographic}\u3000-\u303f\uff00-\uffef]")
    between_ideographs = bool(ideographic.match(prefix[-1]) or ideographic.match(following))
    assert at_space_or_punctuation or between_ideographs, f"cut inside a word: {prefix[-1]!r}|{following!r}"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(story=STORIES, profile=st.sampled_from(PROFILES))
def test_a_post_fits_keeps_the_url_whole_and_cuts_only_after_whole_words(
    story: Story, profile: Profile
) -> None:
    """For any story and network a post fits its limit, keeps the URL whole and cuts only between words."""
    if not profile.fits(story.url):  # a link longer than the whole post: refused, never cut
        with pytest.raises(compose.LinkTooLong):
            compose.fit(story, profile)
        return
    composed = compose.fit(story, profile)
    text = composed.text

    assert profile.measure(text) <= profile.limit
    if profile.max_bytes is not None:
        assert len(text.encode()) <= profile.max_bytes
    assert story.url in text.split("\n\n"), "the URL is whole, on its own"
    _shortened_correctly(compose.clean(story.title), composed.head)
    _shortened_correctly(compose.clean(story.lead), composed.excerpt)
    assert "".join(graphemes(text)) == text
    # Every grapheme of the post is one of the original text's (nothing broken apart).
    for part, original in ((composed.head, story.title), (composed.excerpt, story.lead)):
        kept = graphemes(part.removesuffix(ELLIPSIS))
        assert kept == graphemes(compose.clean(original))[: len(kept)]


@settings(max_examples=300, deadline=None)
@given(story=STORIES)
def test_bluesky_facets_point_at_the_link_and_hashtags_in_utf8_bytes(story: Story) -> None:
    """For any story, Bluesky facets cover exactly the link and each hashtag in UTF-8 byte offsets."""
    if not counting.BLUESKY.fits(story.url):
        return  # refused as a whole (see above): no record, no facets
    text = compose.compose(story, counting.BLUESKY)
    data = text.encode()

    found = richtext.facets(text)

    links = [f for f in found if f["features"][0]["$type"] == "app.bsky.richtext.facet#link"]
    assert any(f["features"][0]["uri"] == story.url for f in links)
    for facet in found:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        covered = data[start:end].decode()  # raises if the range splits a character
        feature = facet["features"][0]
        if feature["$type"] == "app.bsky.richtext.facet#link":
            assert covered == feature["uri"]
        else:
            assert covered == "#" + feature["tag"]


def test_facets_are_byte_offsets_not_character_offsets() -> None:
    """Umlauts and a multi-code-point emoji before the link shift its facet by bytes, not characters."""
    text = "Grüße 👩🏾‍💻 https://example.org/a #klima"

    link, tag = richtext.facets(text)

    # "Grüße" is 5 characters but 7 bytes; the emoji 1 grapheme, 4 code points, 15 bytes.
    assert link["index"] == {"byteStart": 7 + 1 + 15 + 1, "byteEnd": 24 + 21}
    assert text.encode()[24:45] == b"https://example.org/a"
    assert text.encode()[tag["index"]["byteStart"] : tag["index"]["byteEnd"]] == b"#klima"


# ---- how each network counts ----


def test_mastodon_counts_graphemes_and_every_link_as_23() -> None:
    """Mastodon's count treats a grapheme as one and any link as 23, however long."""
    long_link = "https://example.org/" + "a" * 200
    assert counting.mastodon_length(long_link) == 23
    assert counting.mastodon_length("👨‍👩‍👧‍👦 e\u0301") == 3
    assert counting.mastodon_length(f"ab {long_link} {long_link}") == 3 + 23 + 1 + 23


def test_bluesky_counts_graphemes_and_caps_bytes() -> None:
    """Bluesky counts graphemes and also caps bytes, so 121 family emoji are too long; links count whole."""
    family = "👨‍👩‍👧‍👦"  # one grapheme, 25 bytes
    assert counting.BLUESKY.fits(family * 119)
    assert not counting.BLUESKY.fits(family * 121)  # 121 graphemes but 3025 bytes
    assert counting.bluesky_length("https://example.org/" + "a" * 10) == 30


def test_the_x_style_profile_weighs_cjk_double_and_emoji_sequences_as_two() -> None:
    """The X-style count weighs CJK and emoji sequences as two, a link as 23, and normalises first."""
    assert counting.weighted_length("a" * 280) == 280
    assert counting.weighted_length("日" * 140) == 280
    assert counting.weighted_length("👨‍👩‍👧‍👦") == 2
    assert counting.weighted_length("e\u0301") == 1  # NFC: é
    assert counting.weighted_length("see https://example.org/" + "x" * 100) == 4 + 23


def test_hashtags_come_from_tag_slugs() -> None:
    """Hashtags are tag slugs without hyphens, deduplicated, and all-digit tags are left out."""
    assert compose.hashtags(("klima-wandel", "2024", "usa", "usa", "co2")) == ["#klimawandel", "#usa", "#co2"]


def test_a_link_too_long_for_the_network_is_refused() -> None:
    """A link longer than Bluesky's whole limit is refused, not cut; Mastodon still takes it."""
    story = Story("Titel", "Lead", "https://example.org/" + "a" * 400, ())
    with pytest.raises(compose.LinkTooLong):
        compose.compose(story, counting.BLUESKY)
    assert compose.compose(story, counting.mastodon()).endswith("a" * 400)  # counts 23 there


# ---- the German fixture ----


def _fixture_article() -> Article:
    data = fixture("article-stabschefs.de.json")
    at = datetime(2022, 5, 20, 8, 30, tzinfo=UTC)
    return Article.model_validate(
        {
            **data,
            "id": uuid.UUID("0b7f3a52-6a4e-4f43-9a55-3d1f6c2b9e10"),
            "slug": "zum-ersten-mal-seit-dem-einmarsch-in-die-ukraine-sprechen-us-amerikanische-"
            "und-russische-stabschefs",
            "authors": [],
            "related": [],
            "status": "published",
            "publish_at": None,
            "unpublish_at": None,
            "published_at": at,
            "first_published_at": at,
            "created_at": at,
            "updated_at": at,
            "owner": "eddie",
            "version": 2,
        }
    )


def test_the_german_fixture_makes_a_sensible_post_for_every_network() -> None:
    """The German fixture gets its whole title and a link on every network, and hashtags where room allows."""
    article = _fixture_article()
    url = compose.article_url("https://zeitung.example/", "/{section}/{slug}", article)
    story = compose.story_of(article, url)

    posts = {profile.name: compose.fit(story, profile) for profile in PROFILES[:1] + PROFILES[2:]}

    assert url == f"https://zeitung.example/world/{article.slug}"
    for name, post in posts.items():
        assert post.head == article.title, name  # the title always fits whole
        assert post.url == url
        assert post.excerpt, name
    assert posts["x-style"].tags == ("#ukraine", "#russland", "#usa", "#pentagon")  # its link counts 23
    # Bluesky counts this long link in full: the excerpt keeps its room, the hashtags give way.
    assert len(graphemes(posts["bluesky"].excerpt)) >= compose.MIN_EXCERPT
    assert posts["mastodon"].excerpt == article.lead  # 500 is room enough for all of it
    assert posts["mastodon"].tags == ("#ukraine", "#russland", "#usa", "#pentagon")
    for name in ("bluesky", "x-style"):
        assert posts[name].excerpt.endswith(ELLIPSIS)
        assert article.lead.startswith(posts[name].excerpt.removesuffix(ELLIPSIS))


def test_article_urls_follow_the_pattern_and_drop_empty_segments() -> None:
    """Article URLs follow the configured pattern, percent-encode the slug and skip an empty section."""
    article = _fixture_article().model_copy(update={"section": None, "slug": "grüße"})
    assert compose.article_url("https://z.example", "/{section}/{slug}", article) == (
        "https://z.example/gr%C3%BC%C3%9Fe"
    )
    assert compose.article_url("https://z.example/", "/{language}/{id}", article) == (
        f"https://z.example/de/{article.id}"
    )


# ---- record keys ----


@given(
    published_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    generation=st.integers(1, 1000),
)
def test_record_keys_are_valid_tids_derived_from_article_channel_and_generation(
    published_at: datetime, generation: int
) -> None:
    """A Bluesky record key is a valid TID, the same each time, carrying the publication time."""
    article_id = uuid.UUID("0b7f3a52-6a4e-4f43-9a55-3d1f6c2b9e10")

    key = tid.post_key(article_id, "bluesky", generation, published_at)

    assert tid.SYNTAX.match(key)
    assert key == tid.post_key(article_id, "bluesky", generation, published_at)
    assert tid.time_of(key) == published_at


def test_record_keys_differ_per_channel_and_generation() -> None:
    """One article's record keys differ across channels and generations (bar a rare clock-id clash)."""
    article_id, at = uuid.uuid4(), datetime(2024, 1, 1, tzinfo=UTC)
    keys = {tid.post_key(article_id, channel, gen, at) for channel in ("a", "b", "c") for gen in (1, 2, 3)}
    assert len(keys) >= 8  # 10-bit clock ids: a collision among nine is possible but rare
    assert tid.encode(0, 0) == "2222222222222"


# ---- Retry-After ----


def test_retry_after_reads_seconds_dates_and_rate_limit_resets() -> None:
    """Retry-After seconds or dates and both rate-limit reset headers give a wait; junk gives none."""
    now = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
    assert retry_after({"Retry-After": "7"}, now) == 7.0
    assert retry_after({"Retry-After": "Fri, 20 Nov 2026 12:00:30 GMT"}, now) == 30.0
    assert retry_after({"X-RateLimit-Reset": "2026-11-20T12:01:00.000Z"}, now) == 60.0
    assert retry_after({"ratelimit-reset": str(int(now.timestamp()) + 5)}, now) == 5.0
    assert retry_after({}, now) is None
    assert retry_after({"Retry-After": "soon"}, now) is None
