"""The names of what a cached delivery answer depends on (surrogate keys), in one place.

Delivery and the feeds send them in `Surrogate-Key` and `xkey`; a purge consumer names the
same keys when an article changes. It lives in the platform, not next to the content app,
because a consumer may import only the event contract and the platform: this module is pure
strings, importing nothing, so both sides share one spelling.

What a change purges, so that every answer naming these keys is fresh:
- `article:<id>` of the article itself (its page, every list and feed showing it, every page
  showing it as "see also");
- `list:all`, `list:section:<slug>`, `list:tag:<slug>`, `list:language:<code>` for its old
  and new section, tags and language: the lists it enters, leaves or moves in;
- `sitemap` when it enters or leaves what is live.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

# Varnish's default http_resp_hdr_len is 8 KiB, Fastly allows 16 KiB of Surrogate-Key and
# Cloudflare 16 KiB of Cache-Tag: below all of them. A list page of 100 articles (~4.5 KB) fits.
MAX_HEADER_BYTES = 7000

ALL = "list:all"
SITEMAP = "sitemap"


def article(article_id: UUID | str) -> str:
    return f"article:{article_id}"


def section(slug: str) -> str:
    return f"section:{slug}"


def tag(slug: str) -> str:
    return f"tag:{slug}"


def language(code: str) -> str:
    return f"language:{code}"


def section_list(slug: str) -> str:
    return f"list:section:{slug}"


def tag_list(slug: str) -> str:
    return f"list:tag:{slug}"


def language_list(code: str) -> str:
    return f"list:language:{code}"


def feed(scope: str) -> str:
    """A feed's own key (`feed:site`, `feed:section:<slug>`, `feed:tag:<slug>`), for purging
    feeds alone, e.g. after their settings changed."""
    return f"feed:{scope}"


def lists(*, section: str | None, tag: str | None, language: str | None) -> list[str]:
    """The lists a filtered list answer is: one key per filter, `list:all` without any. A
    change to an article outside a filter cannot change that list, so its purge may skip it."""
    found = [section_list(section)] if section else []
    found += [tag_list(tag)] if tag else []
    found += [language_list(language)] if language else []
    return found or [ALL]


def of_article(article_id: UUID | str, *, section_slug: str | None, language_code: str) -> list[str]:
    """An article page's own keys: its id, section and language (its tags are `tag(...)` each)."""
    found = [article(article_id)]
    found += [section(section_slug)] if section_slug else []
    found.append(language(language_code))
    return found


def header(required: Iterable[str], detail: Iterable[str] = ()) -> str:
    """The keys as one header value, unique, in order, space-separated, at most
    MAX_HEADER_BYTES. `required` is always kept (it is small: list keys and the page's own
    article); when `detail` would not fit, it is replaced by `list:all`, which every change to
    a live article purges: coarser, never stale."""
    kept = _unique(required)
    value = " ".join([*kept, *_unique(detail, seen=set(kept))])
    if len(value) <= MAX_HEADER_BYTES:
        return value
    return " ".join(kept if ALL in kept else [*kept, ALL])


def headers(required: Iterable[str], detail: Iterable[str] = ()) -> dict[str, str]:
    """`Surrogate-Key` (Fastly) and `xkey` (Varnish's xkey vmod) with the same value, and
    `Cache-Tag` (Cloudflare: the same keys, comma-separated)."""
    value = header(required, detail)
    return {"Surrogate-Key": value, "xkey": value, "Cache-Tag": value.replace(" ", ",")}


def _unique(keys: Iterable[str], seen: set[str] | None = None) -> list[str]:
    seen = set() if seen is None else seen
    found = []
    for key in keys:
        if key not in seen:
            seen.add(key)
            found.append(key)
    return found
