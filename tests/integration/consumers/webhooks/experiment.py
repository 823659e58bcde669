"""The receiver-outage experiment (issue 16), shared by the test and `bench/webhooks.py`:
publishes and updates go through the content API while the receiver is up, then down for
`outage` seconds (cut off while requests are in hand, so some answers are lost), then up again;
it counts what the receiver got: lost, duplicated as a new delivery, out of order per article,
and how long delivery took after the receiver came back."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from tests.helpers import create_draft, patch, publish
from tests.integration.consumers.webhooks.receiver import Receiver

Log = Callable[[str], None]


@dataclass
class Result:
    expected: int
    received_ids: int
    lost: int
    duplicates_as_new: int
    redelivered_after_lost_answer: int
    out_of_order: int
    unverified: int
    outage_seconds: float
    drained_after_recovery: float  # receiver back -> everything published so far delivered
    after_recovery_latencies: list[float] = field(default_factory=list)  # publish -> 2xx, once back

    def lines(self) -> list[str]:
        lat = sorted(self.after_recovery_latencies) or [0.0]
        return [
            f"events published             {self.expected}",
            f"receiver down                {self.outage_seconds:.1f} s",
            f"lost                         {self.lost}",
            f"duplicated as a new delivery {self.duplicates_as_new}",
            f"out of order (per article)   {self.out_of_order}",
            f"signatures not verified      {self.unverified}",
            f"same id again after a lost answer (allowed) {self.redelivered_after_lost_answer}",
            f"backlog delivered after recovery in {self.drained_after_recovery:.2f} s",
            f"latency once back: p50 {statistics.median(lat) * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms",
        ]


async def run(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    receiver: Receiver,
    *,
    articles: int = 40,
    rounds: int = 5,
    outage: float = 60.0,
    drain_within: float = 120.0,
    log: Log = lambda line: None,
) -> Result:
    """`articles` x `rounds` events of interest: round 0 publishes each article, the others
    update it. Rounds 0-1 with the receiver up, then it goes down; rounds 2..n-2 during the
    outage; the receiver comes back after `outage` seconds; the last round after that."""
    expected: dict[tuple[str, int], float] = {}  # (article id, version) -> when published
    drafts = [await create_draft(api, token["author"], title=f"Story {n}") for n in range(articles)]
    current = {d["id"]: d for d in drafts}

    async def one_round(number: int, pace: float = 0.0) -> None:
        for article_id, article in list(current.items()):
            if number == 0:
                done = await publish(api, token["editor"], article)
            else:
                response = await patch(api, token["editor"], article, lead=f"round {number}")
                assert response.status_code == 200, response.text
                done = response.json()
            current[article_id] = done
            expected[(article_id, done["version"])] = time.monotonic()
            if pace:
                await asyncio.sleep(pace)

    await one_round(0)
    await one_round(1)
    await _until(lambda: _delivered(receiver, expected), within=60)
    log(f"{len(expected)} delivered with the receiver up; cutting it off mid-request")

    receiver.swallow = True  # the next requests are taken and never answered
    swallowed_from = len(receiver.received)
    during = list(range(2, rounds - 1))
    down_at = time.monotonic()
    await one_round(during[0], pace=0.0) if during else None
    await _until(lambda: _more(receiver, swallowed_from), within=10)
    await receiver.stop()
    down_at = time.monotonic()
    receiver.swallow = False
    log("receiver down")
    pace = (outage * 0.6) / max(1, articles * max(0, len(during) - 1))
    for number in during[1:]:
        await one_round(number, pace=pace)
    await asyncio.sleep(max(0.0, outage - (time.monotonic() - down_at)))
    await receiver.start()
    up_at = time.monotonic()
    outage_seconds = up_at - down_at
    log(f"receiver up again after {outage_seconds:.1f} s")
    backlog = dict(expected)
    await _until(lambda: _delivered(receiver, backlog), within=drain_within)
    drained = time.monotonic() - up_at
    before_last = dict(expected)
    await one_round(rounds - 1)
    await _until(lambda: _delivered(receiver, expected), within=60)
    await asyncio.sleep(1.0)  # anything extra (a duplicate) has time to arrive
    return _tally(receiver, expected, before_last, outage_seconds, drained)


def _tally(
    receiver: Receiver,
    expected: dict[tuple[str, int], float],
    before_last: dict[tuple[str, int], float],
    outage_seconds: float,
    drained: float,
) -> Result:
    ids_of: dict[tuple[str, int], set[str]] = {}
    answered_ids: set[str] = set()
    duplicates = redelivered = out_of_order = 0
    last_version: dict[str, int] = {}
    latencies: list[float] = []
    for got in receiver.received:
        key = (got.body["subject"], got.body["articleversion"])
        ids_of.setdefault(key, set()).add(got.webhook_id)
        if got.webhook_id in answered_ids:
            duplicates += 1  # sent again although the receiver had said 2xx
        elif len(ids_of[key]) == 1 and any(r.webhook_id == got.webhook_id for r in _earlier(receiver, got)):
            redelivered += 1
        if got.answered:
            answered_ids.add(got.webhook_id)
            if key[1] < last_version.get(key[0], 0):
                out_of_order += 1
            last_version[key[0]] = max(last_version.get(key[0], 0), key[1])
            if key in expected and key not in before_last:
                latencies.append(got.at - expected[key])
    duplicates += sum(len(ids) - 1 for ids in ids_of.values())
    lost = sum(1 for key in expected if not (ids_of.get(key, set()) & answered_ids))
    return Result(
        expected=len(expected),
        received_ids=len({r.webhook_id for r in receiver.received}),
        lost=lost,
        duplicates_as_new=duplicates,
        redelivered_after_lost_answer=redelivered,
        out_of_order=out_of_order,
        unverified=sum(1 for r in receiver.received if not r.verified),
        outage_seconds=outage_seconds,
        drained_after_recovery=drained,
        after_recovery_latencies=latencies,
    )


def _earlier(receiver: Receiver, got: Any) -> list[Any]:
    return receiver.received[: receiver.received.index(got)]


async def _delivered(receiver: Receiver, expected: dict[tuple[str, int], float]) -> bool:
    answered = {(r.body["subject"], r.body["articleversion"]) for r in receiver.answered()}
    return all(key in answered for key in expected)


async def _more(receiver: Receiver, than: int) -> bool:
    return len(receiver.received) > than


async def _until(check: Callable[[], Awaitable[bool]], within: float) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 (polling the receiver's record)
            await asyncio.sleep(0.05)
