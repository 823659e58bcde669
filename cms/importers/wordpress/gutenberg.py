"""WordPress's block grammar: `<!-- wp:name {json} -->…<!-- /wp:name -->` and the void
`<!-- wp:name /-->`, nested, with classic HTML between blocks (a "freeform" block).

The token is WordPress's own (`WP_Block_Parser::next_token`, wp-includes/class-wp-block-parser.php),
so what WordPress reads as a block, this reads as one too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"<!--\s+(?P<closer>/)?wp:(?P<namespace>[a-z][a-z0-9_-]*/)?(?P<name>[a-z][a-z0-9_-]*)\s+"
    r"(?P<attrs>\{(?:(?:[^}]+|\}+(?=\})|(?!\}\s+/?-->).)*+)?\}\s+)?(?P<void>/)?-->",
    re.DOTALL,
)


@dataclass
class Block:
    """`name` is `core/paragraph`, `jetpack/map`…; None for classic HTML between blocks."""

    name: str | None
    attrs: dict[str, Any] = field(default_factory=dict)
    parts: list[str | Block] = field(default_factory=list)

    @property
    def inner(self) -> list[Block]:
        return [part for part in self.parts if isinstance(part, Block)]

    def html(self) -> str:
        """The block's markup with its inner blocks' markup in place, as WordPress renders it."""
        return "".join(part if isinstance(part, str) else part.html() for part in self.parts)

    def own_html(self) -> str:
        """The block's markup without its inner blocks (a quote's frame, a list's `<ul>`)."""
        return "".join(part for part in self.parts if isinstance(part, str))


def has_blocks(content: str) -> bool:
    return "<!-- wp:" in content


def parse(content: str) -> list[Block]:
    """The top-level blocks of a post; a closer without its opener is kept as text."""
    top: list[Block] = []
    stack: list[Block] = []
    position = 0
    for token in _TOKEN.finditer(content):
        text = content[position : token.start()]
        position = token.end()
        _add_text(stack, top, text)
        name = (token["namespace"] or "core/") + token["name"]
        if token["closer"]:
            if any(open_.name == name for open_ in stack):
                while stack:
                    closed = stack.pop()
                    _add_block(stack, top, closed)
                    if closed.name == name:
                        break
            continue
        block = Block(name=name, attrs=_attrs(token["attrs"]))
        if token["void"]:
            _add_block(stack, top, block)
        else:
            stack.append(block)
    _add_text(stack, top, content[position:])
    while stack:  # unclosed blocks end with the post
        _add_block(stack, top, stack.pop())
    return top


def _attrs(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _add_text(stack: list[Block], top: list[Block], text: str) -> None:
    if not text:
        return
    if stack:
        stack[-1].parts.append(text)
    elif text.strip():
        top.append(Block(name=None, parts=[text]))


def _add_block(stack: list[Block], top: list[Block], block: Block) -> None:
    if stack:
        stack[-1].parts.append(block)
    else:
        top.append(block)
