"""What a search may cost: checks on the query's words, and the plan made from its parsed forms.
Pure functions, no I/O.

A search costs what its query makes of the index: each word is a posting list to merge, each
operand a term that ranking and highlighting evaluate for every candidate, a phrase a check of
positions in the document itself, and a query made only of exclusions (`-a or -b`) matches
every article, which no index can narrow. So the words are capped, such queries are refused,
and phrases are checked only on the newest candidates (see `Plan`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from consumers.runtime.http import InvalidInput

MAX_QUERY_CHARS = 256
MAX_WORDS = 16
# Per configuration, the nodes of the parsed query (operands and operators). The words cap
# keeps plain queries far below it; what the parser splits further (hyphenated compounds,
# URLs, file names) is caught here.
MAX_NODES = 64

# What PostgreSQL's parser may take as a word: runs of letters and digits (`_` and punctuation
# separate words, as for the parser). `or` between words is an operator, not a word.
_WORD = re.compile(r"[^\W_]+")
# A lexeme of a tsquery's text form (quotes doubled inside), or a phrase operator outside one.
_LEXEME_OR_PHRASE = re.compile(r"'(?:[^']|'')*'|<(?:-|\d+)>")


def check_words(q: str) -> str:
    """The query, if it has at most MAX_WORDS words (else a ValueError saying so)."""
    words = sum(1 for word in _WORD.findall(q) if word.lower() != "or")
    if words > MAX_WORDS:
        raise ValueError(
            f"a search takes at most {MAX_WORDS} words (this one has {words}); "
            "leave out the less telling ones"
        )
    return q


@dataclass(frozen=True)
class Form:
    """The query as one text search configuration parses it (`websearch_to_tsquery`)."""

    config: str
    query: str  # tsquery text; '' when nothing is left (only stop words)
    indexable: str  # querytree(): the part an index can look up; 'T' when there is none
    nodes: int


@dataclass(frozen=True)
class Plan:
    """How to run a search. `match` is the query in every configuration, OR-ed (each document's
    tsvector was built with its own). Candidates are the newest articles matching `narrow`, at
    most a setting's worth; when `narrow` is not `match` itself (the query has a phrase), the
    candidates are checked against `match` afterwards. Each candidate is ranked and highlighted
    with the form of its own configuration (`configs[i]` ↔ `queries[i]`)."""

    match: str
    narrow: str
    configs: list[str]
    queries: list[str]

    @property
    def exact(self) -> bool:
        return self.narrow == self.match


def plan(forms: Sequence[Form]) -> Plan | None:
    """The plan for these forms; None when no configuration has a word to look for (only stop
    words, or an empty index). InvalidInput for a query too complex or made of exclusions."""
    parsed = [form for form in forms if form.nodes > 0]
    if not parsed:
        return None
    largest = max(form.nodes for form in parsed)
    if largest > MAX_NODES:
        raise _invalid(
            f"the query is too complex: it makes {largest} search terms and operators, at most "
            f"{MAX_NODES} are allowed (fewer words, phrases, hyphenated words or addresses)"
        )
    if any(form.indexable == "T" for form in parsed):
        raise _invalid(
            "every alternative (between `or`) needs a word to look for that is not excluded "
            "with `-`; common words such as 'the' or 'und' are ignored"
        )
    distinct = sorted({form.query for form in parsed})
    narrow = sorted({_narrow(form) for form in parsed})
    return Plan(
        match=_any_of(distinct),
        narrow=_any_of(narrow),
        configs=[form.config for form in parsed],
        queries=[form.query for form in parsed],
    )


def _any_of(queries: list[str]) -> str:
    return queries[0] if len(queries) == 1 else " | ".join(f"( {query} )" for query in queries)


def _narrow(form: Form) -> str:
    """What an index answers without reading a document: the form itself, unless it has a
    phrase (checking word positions reads each matching document's tsvector, a cost without
    bound over a big index). Then its indexable part (exclusions dropped) with each phrase as
    'all of these words': every match of the form matches it too."""
    if not _has_phrase(form.query):
        return form.query
    return _LEXEME_OR_PHRASE.sub(lambda m: m[0] if m[0].startswith("'") else "&", form.indexable)


def _has_phrase(query: str) -> bool:
    return any(not m[0].startswith("'") for m in _LEXEME_OR_PHRASE.finditer(query))


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, [{"loc": ["query", "q"], "msg": message}])
