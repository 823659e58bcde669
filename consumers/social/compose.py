"""Composing a post from an article, fitted to a network's rules: pure functions, no I/O.

A post is, in this order and separated by blank lines: the title, a lead excerpt, the
article's URL and hashtags from its tags. The URL is always there and always whole. When the
whole does not fit, hashtags go first (down to keeping a readable excerpt), then the lead and,
if need be, the title are cut after a whole word with "…", never inside a grapheme cluster.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import regex

from cms.events.contract import Article
from consumers.social.counting import Profile, graphemes

ELLIPSIS = "…"
MAX_HASHTAGS = 5
MIN_EXCERPT = 60  # graphemes of lead worth keeping before hashtags are given up for it

# Scripts written without spaces between words: a line may break between any two of their
# characters (UAX #14 class ID), so a cut there is still at a word boundary.
_NO_SPACES = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Ideographic}\u3000-\u303f\uff00-\uffef]")
# Dropped before "…": spaces and punctuation that would dangle (",", "-", an opening quote),
# but not what closes a thought or a quote.
_TRAILING = regex.compile(r"^[\s\p{P}--[)\]}\u00bb\u201d\u2019\"'!?.]]+$", regex.V1)
_HASHTAG_OK = regex.compile(r"^\w*[^\W\d_]\w*$")


class LinkTooLong(ValueError):
    """The article's URL alone exceeds the network's limit: nothing sensible can be posted."""


@dataclass(frozen=True)
class Story:
    """What a post is made of."""

    title: str
    lead: str
    url: str
    tags: tuple[str, ...]


def article_url(public_url: str, pattern: str, article: Article) -> str:
    """`CMS_PUBLIC_URL` + the path pattern, e.g. "/{section}/{slug}"; empty segments dropped."""
    path = pattern.format(
        section=article.section or "",
        slug=article.slug,
        id=article.id,
        language=article.language,
    )
    path = "/" + "/".join(segment for segment in path.split("/") if segment)
    return public_url.rstrip("/") + quote(path, safe="/:@-._~!$&'()*+,;=%")


def story_of(article: Article, url: str) -> Story:
    return Story(title=article.title, lead=article.lead, url=url, tags=tuple(article.tags))


def clean(text: str) -> str:
    """One line of NFC text: runs of whitespace (newlines too) become one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def hashtags(tags: tuple[str, ...]) -> list[str]:
    """`klima-wandel` -> `#klimawandel`; tags without a letter are no hashtags on any network."""
    found: list[str] = []
    for tag in tags:
        word = "".join(part for part in regex.split(r"[^\w]+", clean(tag)) if part)
        if word and _HASHTAG_OK.match(word) and f"#{word}" not in found:
            found.append(f"#{word}")
    return found[:MAX_HASHTAGS]


@dataclass(frozen=True)
class Composed:
    """The parts of a post as fitted ("" for a part left out)."""

    head: str
    excerpt: str
    url: str
    tags: tuple[str, ...]

    @property
    def text(self) -> str:
        return assemble(self.head, self.excerpt, self.url, self.tags)


def assemble(head: str, excerpt: str, url: str, tags: tuple[str, ...] | list[str]) -> str:
    return "\n\n".join(part for part in (head, excerpt, url, " ".join(tags)) if part)


def compose(story: Story, profile: Profile) -> str:
    return fit(story, profile).text


def fit(story: Story, profile: Profile) -> Composed:
    title, lead, url = clean(story.title), clean(story.lead), story.url
    if not profile.fits(url):
        raise LinkTooLong(f"the link alone does not fit in a {profile.name} post: {url}")
    head = shorten(title, lambda candidate: profile.fits(assemble(candidate, "", url, [])))
    tags: list[str] = []
    for tag in hashtags(story.tags):
        if profile.fits(assemble(head, "", url, [*tags, tag])):
            tags.append(tag)
    while True:
        excerpt = shorten(lead, lambda candidate: profile.fits(assemble(head, candidate, url, tags)))
        if excerpt == lead or not tags or len(graphemes(excerpt)) >= MIN_EXCERPT:
            return Composed(head, excerpt, url, tuple(tags))
        tags.pop()


def shorten(text: str, fits: Callable[[str], bool]) -> str:
    """`text` if it fits, else its longest prefix that ends after a whole word, plus "…", that
    fits; "" if not even the first word does."""
    if fits(text):
        return text
    candidates = [cut for cut in map(_cut, _boundaries(text)) if cut]
    best = ""
    low, high = 0, len(candidates) - 1
    while low <= high:  # longer candidates measure longer: binary search the longest that fits
        middle = (low + high) // 2
        if fits(candidates[middle]):
            best, low = candidates[middle], middle + 1
        else:
            high = middle - 1
    return best


def _boundaries(text: str) -> list[list[str]]:
    """Every prefix (as grapheme clusters) that ends where a line may break, shortest first."""
    clusters = graphemes(text)
    prefixes = []
    for index in range(1, len(clusters)):
        before, after = clusters[index - 1], clusters[index]
        if after.isspace() or _NO_SPACES.match(before) or _NO_SPACES.match(after):
            prefixes.append(clusters[:index])
    return prefixes


def _cut(prefix: list[str]) -> str:
    """The prefix without trailing spaces and dangling punctuation, plus "…"; "" if nothing is
    left or if "…" would fuse with the last cluster (it never does for text we cut at spaces)."""
    kept = list(prefix)
    while kept and _TRAILING.match(kept[-1]):
        kept.pop()
    if not kept:
        return ""
    shortened = "".join(kept) + ELLIPSIS
    return shortened if graphemes(shortened) == [*kept, ELLIPSIS] else ""


# "Korrektur: …" in the article's language; English where we have no word for it.
CORRECTION_LABELS = {
    "de": "Korrektur",
    "en": "Correction",
    "fr": "Correction",
    "es": "Corrección",
    "it": "Correzione",
    "nl": "Correctie",
}


def correction_text(note: str, url: str, language: str, profile: Profile) -> str:
    """A correction notice for a reply: the label, the note (cut after a whole word if need
    be) and the article's link, which is always there and whole."""
    if not profile.fits(url):
        raise LinkTooLong(f"the link alone does not fit in a {profile.name} post: {url}")
    label = CORRECTION_LABELS.get(language.split("-")[0].lower(), "Correction") + ":"
    note = shorten(clean(note), lambda candidate: profile.fits(assemble(f"{label} {candidate}", "", url, [])))
    return assemble(f"{label} {note}" if note else label, "", url, [])
