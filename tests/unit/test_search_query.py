"""What a search query may cost: the word cap, the plan from its parsed forms, snippet texts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from cms.events.contract import Article
from cms.platform.errors import InvalidInput
from consumers.search.document import SNIPPET_CHARS, document_of
from consumers.search.query import MAX_NODES, MAX_WORDS, Form, check_words, plan


def test_a_query_of_up_to_the_word_cap_passes_and_one_more_word_is_refused_naming_the_cap() -> None:
    """`or` is an operator, not a word; `_` separates words as PostgreSQL's parser does."""
    words = " or ".join(f"wort{n}" for n in range(MAX_WORDS))
    assert check_words(words) == words
    with pytest.raises(ValueError, match=f"at most {MAX_WORDS} words \\(this one has {MAX_WORDS + 1}\\)"):
        check_words(words + " noch")
    with pytest.raises(ValueError, match="at most"):
        check_words("_".join("x" * (MAX_WORDS + 1)))


def test_forms_without_phrases_are_matched_exactly_by_the_index() -> None:
    """Without a phrase the index answers the query itself; repeated forms are OR-ed once."""
    made = plan(
        [
            Form("english", "'regierung' & !'krieg'", "'regierung'", 4),
            Form("german", "'regier' & !'krieg'", "'regier'", 4),
            Form("simple", "'regierung' & !'krieg'", "'regierung'", 4),
        ]
    )
    assert made is not None
    assert made.match == "( 'regier' & !'krieg' ) | ( 'regierung' & !'krieg' )"
    assert made.exact
    assert made.configs == ["english", "german", "simple"]


def test_a_phrase_narrows_candidates_by_all_its_words_and_is_checked_on_them_only() -> None:
    """Checking positions reads every matching tsvector: the index finds the documents with
    all the words (exclusions dropped), the phrase is checked on the candidates."""
    made = plan([Form("german", "'rot' <-> 'zora' & !'blau'", "'rot' <-> 'zora'", 6)])
    assert made is not None
    assert made.match == "'rot' <-> 'zora' & !'blau'"
    assert made.narrow == "'rot' & 'zora'"
    assert not made.exact
    quoted = plan([Form("simple", "'a<->b' <2> 'c'", "'a<->b' <2> 'c'", 3)])
    assert quoted is not None
    assert quoted.narrow == "'a<->b' & 'c'"


def test_a_query_made_only_of_exclusions_is_refused() -> None:
    """`-a or -b` matches nearly every article and no index narrows it: a 422, not a scan."""
    with pytest.raises(InvalidInput, match="not excluded") as refused:
        plan([Form("german", "'x' | !'a'", "T", 4), Form("simple", "'x' | !'a'", "'x'", 4)])
    assert refused.value.errors[0]["loc"] == ["query", "q"]


def test_a_query_the_parser_splits_into_too_many_terms_is_refused_naming_the_limit() -> None:
    """Hyphenated words, addresses and paths parse into more terms than words: capped too."""
    with pytest.raises(InvalidInput, match=f"at most {MAX_NODES}"):
        plan([Form("simple", "'a'", "'a'", MAX_NODES + 1)])


def test_a_query_of_stop_words_only_plans_no_search() -> None:
    """Nothing to look for in any configuration: no statement runs, the answer is empty."""
    assert plan([Form("english", "", "", 0)]) is None
    assert plan([]) is None


def test_snippet_text_is_capped_at_a_word_boundary() -> None:
    """ts_headline parses all of a hit's text: a 2 MiB article must not cost a search seconds."""
    now = datetime.now(UTC)
    article = Article.model_validate(
        {
            "id": uuid.uuid4(),
            "slug": "lang",
            "language": "de",
            "title": "Lang",
            "lead": "Vorspann",
            "body": [{"type": "paragraph", "text": "Wort " * 100_000}],
            "section": None,
            "tags": [],
            "authors": [],
            "related": [],
            "status": "published",
            "publish_at": None,
            "unpublish_at": None,
            "owner": "eddie",
            "version": 2,
            "published_at": now,
            "first_published_at": now,
            "created_at": now,
            "updated_at": now,
        }
    )
    snippet = document_of(article).snippet_text
    assert SNIPPET_CHARS - 10 < len(snippet) <= SNIPPET_CHARS
    assert snippet.startswith("Vorspann\nWort Wort")
    assert snippet.endswith("Wort")
    assert len(document_of(article).body) > 400_000  # the index still gets the whole body
