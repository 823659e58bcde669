"""Part 3 of bench.search (`--hostile`): queries written to make public search expensive.

Long OR chains of common words, exclusions, many phrases, hyphenated and underscored chains,
wildcards and punctuation, 256-character junk and unicode junk, each with and without
`language=`, sent to `GET /v1/search` over the full index by several keep-alive connections
at once (as the report's four parallel requests were). Per query: the answers' statuses, the
slowest answer, and its median; then the worst of all. Target: every answer under 1 s, and
never a 500 (a 503 is the search's own timeout: counted, and reported as a miss).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

TARGET_SECONDS = 1.0

# The most common content words of the corpus (bench.search_corpus), German and English.
_COMMON = [
    "Prozent", "Jahr", "Millionen", "Milliarden", "Euro", "Menschen", "Ukraine", "Russland",
    "Deutschland", "Berlin", "Regierung", "Kanzler", "Minister", "Partei", "Wahl", "Woche",
    "people", "year", "government", "percent", "million", "police", "week", "city",
]  # fmt: skip
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Hostile:
    label: str
    q: str


HOSTILE = [
    Hostile("a or b or ... or z (the report's 51 characters)", " or ".join(_LETTERS)),
    Hostile("500 characters of -a or -b ...", " or ".join(f"-{c}" for c in _LETTERS * 10)[:500]),
    Hostile("256 characters of -a or -b ...", " or ".join(f"-{c}" for c in _LETTERS * 10)[:256]),
    Hostile("exclusions only: -Regierung -Prozent", "-Regierung -Prozent"),
    Hostile("a stop word and an exclusion: die -Regierung", "die -Regierung"),
    Hostile("16 common words OR-ed (the cap)", " or ".join(_COMMON[:16])),
    Hostile("16 other common words OR-ed", " or ".join(_COMMON[8:24])),
    Hostile("16 common words AND-ed", " ".join(_COMMON[:16])),
    Hostile(
        "8 phrases of 2 common words OR-ed",
        " or ".join(f'"{a} {b}"' for a, b in zip(_COMMON[:16:2], _COMMON[1:16:2], strict=True)),
    ),
    Hostile(
        "8 phrases of 2 common words AND-ed",
        " ".join(f'"{a} {b}"' for a, b in zip(_COMMON[:16:2], _COMMON[1:16:2], strict=True)),
    ),
    Hostile("one phrase of 16 common words", '"' + " ".join(_COMMON[:16]) + '"'),
    Hostile("a common word, 15 exclusions", "Regierung " + " ".join(f"-{w}" for w in _COMMON[1:16])),
    Hostile(
        "common word or exclusions, 8 times",
        " or ".join(f"{a} -{b}" for a, b in zip(_COMMON[:16:2], _COMMON[1:16:2], strict=True)),
    ),
    Hostile("16 common words hyphenated", "-".join(_COMMON[:16])),
    Hostile("16 common words underscored", "_".join(_COMMON[:16])),
    Hostile("16 common words dotted (a host name)", ".".join(_COMMON[:16])),
    Hostile("a URL of common words", "https://" + "/".join(_COMMON[:15])),
    Hostile("wildcards and operators", "Regierung:* *:* !(&|) <-> <2> '' \\ -- ; %00 or or or ((("),
    Hostile("256 characters of one word", "x" * 256),
    Hostile("256 characters of punctuation", ("!&|()<->:*'\"\\-" * 20)[:256]),
    Hostile(
        "unicode junk",
        "\u0301\u200b\U0001d518\U0001d52b \u2603 \ufeff\U0010ffff \u202e Regierung \u00dc\u0308ber",
    ),
    Hostile("64 combining accents on a common word", "Regierung" + "\u0301" * 64),
    Hostile("stop words only", "der die das und the of and to"),
]


class Client(Protocol):
    async def reopen_if_closed(self) -> None: ...

    async def get(self, target: str) -> tuple[int, bytes]: ...


@dataclass
class Outcome:
    hostile: Hostile
    language: str | None
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    detail: str = ""


async def run(clients: list[Client], repeats: int) -> list[Outcome]:
    """Every hostile query, with and without language, `repeats` times on each client at once."""
    outcomes = []
    for language in (None, "de"):
        for hostile in HOSTILE:
            outcome = Outcome(hostile, language)
            params = {"q": hostile.q} | ({"language": language} if language else {})
            target = "/v1/search?" + urlencode(params)
            await asyncio.gather(*(_ask(client, target, repeats, outcome) for client in clients))
            outcomes.append(outcome)
    return outcomes


async def _ask(client: Client, target: str, repeats: int, outcome: Outcome) -> None:
    for _ in range(repeats):
        await client.reopen_if_closed()
        started = time.perf_counter()
        status, body = await client.get(target)
        outcome.seconds.append(time.perf_counter() - started)
        outcome.statuses[status] += 1
        if status != 200:
            outcome.detail = body.decode(errors="replace")[:300]


def report(outcomes: list[Outcome], clients: int, repeats: int, load: str) -> None:
    print(
        f"\n   {len(outcomes)} queries ({len(HOSTILE)} with and without language=de), each sent "
        f"{repeats} times on each of {clients} connection(s) at once; in ms; {load}\n"
    )
    print(f"   {'query':<52}{'lang':>5}  {'answers':<14}{'p50':>8}{'max':>8}")
    for outcome in outcomes:
        answers = " ".join(f"{n}x{status}" for status, n in sorted(outcome.statuses.items()))
        middle = sorted(outcome.seconds)[len(outcome.seconds) // 2]
        print(
            f"   {outcome.hostile.label[:52]:<52}{outcome.language or '-':>5}  {answers:<14}"
            f"{middle * 1000:>8.1f}{max(outcome.seconds) * 1000:>8.1f}"
        )
    worst = max(outcomes, key=lambda outcome: max(outcome.seconds))
    failures = [o for o in outcomes if set(o.statuses) - {200, 422}]
    slowest = max(worst.seconds)
    print(
        f"\n   worst: {worst.hostile.label} (language {worst.language or '-'}): "
        f"{slowest * 1000:.1f} ms, answers {dict(worst.statuses)}"
    )
    verdict = "met" if slowest < TARGET_SECONDS and not failures else "MISSED"
    print(
        f"   target: every answer under {TARGET_SECONDS:g} s and each one 200 or 422: {verdict}"
        + "".join(
            f"\n     {o.hostile.label} ({o.language or '-'}): {dict(o.statuses)} {o.detail}" for o in failures
        )
    )
