"""Revision diff, as pure functions: per field, per block (added, removed, moved, changed) and per
word inside a changed text, in a shape a UI can render.

Blocks are matched across the two versions in three passes: equal blocks in order (difflib's
SequenceMatcher over the blocks), then equal blocks out of order, then similar blocks of the
same type (words in common, at least SIMILAR). Of the matched pairs, the longest run that keeps
its order (equal pairs weighing a little more than similar ones) stays in place ("unchanged" or
"changed"); every other pair "moved". So a paragraph that moved is one "moved" entry, not a
removal and an addition.

Texts run to 2 MiB, so the work is bounded and the answer says where it stopped: a text longer
than MAX_TOKENS tokens gets no word diff (before and after are given whole), word diffs stop
after TOTAL_TOKENS tokens compared in all, and similarity matching after MATCH_BUDGET words compared.
"""

from __future__ import annotations

import asyncio
import re
import uuid
import weakref
from collections import Counter, defaultdict, deque
from difflib import SequenceMatcher
from typing import Any, Literal

import orjson
from pydantic import BaseModel, Field

from cms.events.contract import Article, Block, Embed, Heading, Image, ListBlock, Paragraph, Quote

SIMILAR = 0.5
MAX_TOKENS = 4000
TOTAL_TOKENS = 40_000
MATCH_BUDGET = 4_000_000
# Title and lead get a word diff too; the rest of the fields are short values shown whole.
FIELDS = (
    "title", "lead", "slug", "language", "section", "tags", "authors", "related", "status",
    "publish_at", "unpublish_at", "published_at", "first_published_at", "owner", "deleted_at",
    "post_to_social",
)  # fmt: skip
_WORD_DIFFED_FIELDS = ("title", "lead")

# A token is a word, an HTML tag, an entity or a run of punctuation, with the whitespace before
# it; whitespace at the very end is a token of its own. Joined, the tokens are the text again.
_TOKEN = re.compile(r"\s*(?:<[^>]*>|&#?\w+;|\w+|[^\w\s<&]+|[<&])|\s+")
_WORD = re.compile(r"\w+")


class WordRun(BaseModel):
    op: Literal["equal", "insert", "delete"]
    text: str


class FieldChange(BaseModel):
    field: str
    before: Any
    after: Any
    words: list[WordRun] | None = Field(
        default=None, description="title and lead: the change word by word (null when too long)"
    )


BlockChangeKind = Literal["unchanged", "changed", "moved", "added", "removed"]


class BlockChange(BaseModel):
    change: BlockChangeKind
    before_index: int | None = Field(description="position in the older version; null when added")
    after_index: int | None = Field(description="position in the newer version; null when removed")
    before: Block | None = Field(description="the block in the older version; null when added or unchanged")
    after: Block | None = Field(description="the block in the newer version; null when removed")
    edited: bool = Field(description="its content differs (always for changed; for moved, moved and edited)")
    words: list[WordRun] | None = Field(
        default=None, description="an edited text, word by word; null when there is none or it is too long"
    )
    words_skipped: bool = Field(default=False, description="edited, but too long for a word diff")


class DiffLimits(BaseModel):
    max_tokens_per_text: int = MAX_TOKENS
    texts_without_word_diff: int = Field(description="edited texts shown only whole (too long)")
    block_matching_complete: bool = Field(
        description="false when similarity matching stopped early: some edits show as removed + added"
    )


class RevisionDiff(BaseModel):
    """From version `from_version` to `to_version`; blocks in the newer version's order, each
    removed block where it stood (after the block that preceded it, before what replaced it)."""

    article_id: uuid.UUID
    from_version: int
    to_version: int
    fields: list[FieldChange]
    blocks: list[BlockChange]
    limits: DiffLimits


class _Budget:
    def __init__(self) -> None:
        self.tokens = TOTAL_TOKENS
        self.skipped = 0

    def runs(self, before: str, after: str) -> list[WordRun] | None:
        old, new = _tokens(before, min(MAX_TOKENS, self.tokens)), _tokens(after, min(MAX_TOKENS, self.tokens))
        if old is None or new is None or len(old) + len(new) > self.tokens:
            self.skipped += 1
            return None
        self.tokens -= len(old) + len(new)
        return _runs(old, new)


def compare(old: Article, new: Article) -> RevisionDiff:
    budget = _Budget()
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    fields = [
        FieldChange(
            field=name,
            before=before[name],
            after=after[name],
            words=budget.runs(before[name], after[name]) if name in _WORD_DIFFED_FIELDS else None,
        )
        for name in FIELDS
        if before[name] != after[name]
    ]
    blocks, complete = _blocks(old.body, new.body, budget)
    return RevisionDiff(
        article_id=new.id,
        from_version=old.version,
        to_version=new.version,
        fields=fields,
        blocks=blocks,
        limits=DiffLimits(texts_without_word_diff=budget.skipped, block_matching_complete=complete),
    )


def word_runs(before: str, after: str, max_tokens: int = MAX_TOKENS) -> list[WordRun] | None:
    """`before` turned into `after` as equal, delete and insert runs; None past `max_tokens` a side."""
    old, new = _tokens(before, max_tokens), _tokens(after, max_tokens)
    return None if old is None or new is None else _runs(old, new)


def _runs(old: list[str], new: list[str]) -> list[WordRun]:
    runs: list[WordRun] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            _add(runs, "equal", "".join(old[i1:i2]))
            continue
        _add(runs, "delete", "".join(old[i1:i2]))
        _add(runs, "insert", "".join(new[j1:j2]))
    return runs


def _tokens(text: str, limit: int) -> list[str] | None:
    """At most `limit` tokens, without tokenising a 2 MiB text to learn that it is too long."""
    found: list[str] = []
    for match in _TOKEN.finditer(text):
        if len(found) == limit:
            return None
        found.append(match.group())
    return found


def _add(runs: list[WordRun], op: Literal["equal", "insert", "delete"], text: str) -> None:
    if not text:
        return
    if runs and runs[-1].op == op:
        runs[-1] = WordRun(op=op, text=runs[-1].text + text)
    else:
        runs.append(WordRun(op=op, text=text))


def _blocks(old: list[Block], new: list[Block], budget: _Budget) -> tuple[list[BlockChange], bool]:
    pairs, complete = _match(old, new)
    in_place = _longest_ordered(sorted(pairs.items()), {j for j, i in pairs.items() if old[i] == new[j]})
    answer: list[BlockChange] = []
    matched = set(pairs.values())
    emitted_old = 0  # old blocks before this index are accounted for

    def removed_up_to(end: int) -> None:
        nonlocal emitted_old
        for i in range(emitted_old, end):
            if i not in matched:
                answer.append(_entry("removed", i, None, old[i], None, budget))
        emitted_old = max(emitted_old, end)

    # For each newer block, the older index of the next block that stayed in place: a removed
    # block before it is shown before what was added in its stead, as in a line diff.
    next_anchor, anchor = [len(old)] * len(new), len(old)
    for j in reversed(range(len(new))):
        if j in in_place:
            anchor = pairs[j]
        next_anchor[j] = anchor

    for j, block in enumerate(new):
        i = pairs.get(j)
        if i is None:
            removed_up_to(next_anchor[j])
            answer.append(_entry("added", None, j, None, block, budget))
        elif j in in_place:
            removed_up_to(i)
            kind: BlockChangeKind = "unchanged" if old[i] == block else "changed"
            answer.append(_entry(kind, i, j, old[i], block, budget))
            emitted_old = i + 1
        else:
            answer.append(_entry("moved", i, j, old[i], block, budget))
    removed_up_to(len(old))
    return answer, complete


def _entry(
    kind: BlockChangeKind,
    i: int | None,
    j: int | None,
    before: Block | None,
    after: Block | None,
    budget: _Budget,
) -> BlockChange:
    edited = kind == "changed" or (kind == "moved" and before != after)
    words = None
    if edited and before is not None and after is not None:
        words = budget.runs(_text(before), _text(after))
    return BlockChange(
        change=kind,
        before_index=i,
        after_index=j,
        before=None if kind == "unchanged" else before,
        after=after,
        edited=edited,
        words=words,
        words_skipped=edited and words is None,
    )


def _text(block: Block) -> str:
    """The text a reader reads in the block, the part a word diff is about."""
    match block:
        case Paragraph() | Heading() | Quote():
            return block.text
        case ListBlock():
            return "\n".join(block.items)
        case Image():
            return block.caption or ""
        case Embed():
            return ""
    raise TypeError(f"unknown block {block!r}")


def _key(block: Block) -> str:
    return orjson.dumps(block.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS).decode()


def _match(old: list[Block], new: list[Block]) -> tuple[dict[int, int], bool]:
    """Newer block index → older block index, for every pair matched; False when the similarity
    pass ran out of budget."""
    old_keys, new_keys = [_key(b) for b in old], [_key(b) for b in new]
    pairs: dict[int, int] = {}
    matcher = SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal":
            pairs.update({j1 + k: i1 + k for k in range(i2 - i1)})
    unmatched_old: dict[str, deque[int]] = defaultdict(deque)
    taken = set(pairs.values())
    for i, key in enumerate(old_keys):
        if i not in taken:
            unmatched_old[key].append(i)
    for j, key in enumerate(new_keys):
        if j not in pairs and unmatched_old[key]:
            pairs[j] = unmatched_old[key].popleft()
    return pairs, _match_similar(old, new, pairs)


def _match_similar(old: list[Block], new: list[Block], pairs: dict[int, int]) -> bool:
    taken = set(pairs.values())
    left_old = [i for i in range(len(old)) if i not in taken]
    left_new = [j for j in range(len(new)) if j not in pairs]
    words_old = {i: _bag(old[i]) for i in left_old}
    words_new = {j: _bag(new[j]) for j in left_new}
    spent, complete = 0, True
    scored: list[tuple[float, int, int]] = []
    for j in left_new:
        for i in left_old:
            if old[i].type != new[j].type:
                continue
            a, b = words_old[i], words_new[j]
            size_a, size_b = a.total(), b.total()
            if size_a + size_b == 0 or 2 * min(size_a, size_b) / (size_a + size_b) < SIMILAR:
                continue  # the most they could share is too little
            spent += min(len(a), len(b))
            if spent > MATCH_BUDGET:
                complete = False
                break
            common = (a & b).total()
            score = 2 * common / (size_a + size_b)
            if score >= SIMILAR:
                scored.append((score, i, j))
        if not complete:
            break
    # Best pairs first; among equals the nearer positions, so repeated texts pair in order.
    for _, i, j in sorted(scored, key=lambda s: (-s[0], abs(s[1] - s[2]), s[2])):
        if j not in pairs and i not in taken:
            pairs[j] = i
            taken.add(i)
    return complete


def _bag(block: Block) -> Counter[str]:
    values = block.model_dump(mode="json", exclude={"type"}).values()
    text = " ".join(v if isinstance(v, str) else " ".join(v) for v in values if isinstance(v, str | list))
    return Counter(word.lower() for word in _WORD.findall(text))


def _longest_ordered(pairs: list[tuple[int, int]], exact: set[int]) -> set[int]:
    """Of (new, old) pairs sorted by new, the new indices of the heaviest run whose old indices
    increase too: those stayed in place, the others moved. An equal pair weighs a little more
    than a similar one, so of a block that moved and was edited and one that did not, the edited
    one is the one shown as moved. A Fenwick tree of the best run ending at each old index keeps
    it n log n."""
    size = max((i for _, i in pairs), default=-1) + 2
    tree: list[tuple[int, int]] = [(0, -1)] * size  # (weight, position in `pairs`) of a best run
    back: list[int] = [-1] * len(pairs)
    best: tuple[int, int] = (0, -1)
    for k, (j, i) in enumerate(pairs):
        before, at = (0, -1), i  # the best run ending at an old index below i
        while at > 0:
            before = max(before, tree[at])
            at -= at & -at
        weight = before[0] + (_EXACT_WEIGHT if j in exact else _SIMILAR_WEIGHT)
        back[k] = before[1]
        best = max(best, (weight, k))
        at = i + 1
        while at < size:
            tree[at] = max(tree[at], (weight, k))
            at += at & -at
    kept: set[int] = set()
    k = best[1]
    while k != -1:
        kept.add(pairs[k][0])
        k = back[k]
    return kept


_EXACT_WEIGHT, _SIMILAR_WEIGHT = 3, 2


# At most this many diffs compute at once per process; the rest wait on the loop.
CONCURRENT = 2
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


async def compare_off_loop(old: Article, new: Article) -> RevisionDiff:
    """`compare` in a worker thread: a diff of two 2 MiB versions must not hold the event loop
    that answers every other request."""
    loop = asyncio.get_running_loop()
    slots = _SLOTS.setdefault(loop, asyncio.Semaphore(CONCURRENT))
    async with slots:
        return await asyncio.to_thread(compare, old, new)
