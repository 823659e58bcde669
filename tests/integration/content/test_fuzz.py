"""The whole API fuzzed from its own OpenAPI document: no input makes it fail or go off-script.

Schemathesis generates valid and invalid requests for every operation in `/openapi.json` and
sends them to the real application (in process, over ASGI; schemathesis runs its lifespan).
Two properties are checked for each answer: it is not a 5xx, and its status is one the
document lists for that operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import status_code_conformance
from starlette.applications import Starlette

from cms.app import create_app
from cms.settings import Settings
from tests.helpers import create_draft, fixture, publish

# Examples per operation and generation mode: enough to reach the odd corners, small enough
# that the whole file runs in seconds.
EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance]
_METHOD_ORDER = ("GET", "PATCH", "POST", "PUT", "DELETE")


@pytest.fixture
async def seeded(api: httpx2.AsyncClient, token: dict[str, str]) -> dict[str, str]:
    """A draft and a published article, so generated requests sometimes name real ones."""
    draft = await create_draft(api, token["author"], **fixture("article-stabschefs.de.json"))
    live = await publish(
        api,
        token["editor"],
        await create_draft(api, token["author"], **fixture("article-luxusgueter.de.json")),
    )
    return {"draft_id": draft["id"], "live_id": live["id"], "live_slug": live["slug"]}


@pytest.fixture
def fuzzed_app(settings: Settings, seeded: dict[str, str]) -> Iterator[Starlette]:
    """An application not yet started: schemathesis starts its lifespan on its own event loop."""
    yield create_app(settings)
    # Closes the pool schemathesis opened, before the test database is dropped.
    schemathesis_asgi.shutdown_lifespans()


@pytest.fixture
def schema(fuzzed_app: Starlette) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)


def _strategy(operation: Any, mode: schemathesis.GenerationMode, known: dict[str, str]) -> Any:
    """Generated cases, and as many again with the path naming a seeded article."""
    strategies = [operation.as_strategy(generation_mode=mode)]
    path = operation.path
    if "{id}" in path:
        for article_id in (known["draft_id"], known["live_id"]):
            fixed = {"id": article_id, **({"version": 1} if "{version}" in path else {})}
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    if "{slug}" in path:
        strategies.append(
            operation.as_strategy(generation_mode=mode, path_parameters={"slug": known["live_slug"]})
        )
    return st.one_of(strategies)


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)  # per operation and mode, with the request
    seen: dict[str, set[int]] = field(default_factory=dict)  # the statuses each operation answered

    def report(self) -> str:
        return "\n\n".join(self.failures)


def _fuzz(schema: Any, headers: dict[str, str], known: dict[str, str], minimum: int = 14) -> Outcome:
    """Every operation, with valid and with invalid input."""
    outcome = Outcome()
    # Reads first, deletes last: the seeded articles are still there when the reads run.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: _METHOD_ORDER.index(op.method.upper()),
    )
    assert len(operations) >= minimum, "the document lists fewer operations than the API has"
    for operation in operations:
        for mode in _modes(operation):
            try:
                _fuzz_operation(operation, _strategy(operation, mode, known), headers, outcome)
            except Exception as exc:
                outcome.failures.append(f"{operation.label} ({mode.value}): {exc}")
    return outcome


def _modes(operation: Any) -> list[schemathesis.GenerationMode]:
    """Invalid input needs an input to spoil: an operation that takes none gets only valid requests."""
    raw = operation.definition.raw
    takes_input = bool(raw.get("parameters")) or "requestBody" in raw
    return list(schemathesis.GenerationMode) if takes_input else [schemathesis.GenerationMode.POSITIVE]


def _fuzz_operation(operation: Any, strategy: Any, headers: dict[str, str], outcome: Outcome) -> None:
    """Raises (after shrinking to the simplest request) when a check fails or the app crashes."""
    seen = outcome.seen.setdefault(operation.label, set())

    @given(case=strategy)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        seen.add(response.status_code)
        case.validate_response(response, checks=CHECKS)

    run()


def test_no_input_with_an_admin_token_gets_a_5xx_or_an_undocumented_status(
    schema: Any, token: dict[str, str], seeded: dict[str, str]
) -> None:
    outcome = _fuzz(schema, {"Authorization": f"Bearer {token['admin']}"}, seeded)

    assert outcome.failures == [], outcome.report()
    # The run got past authentication and reached the seeded articles, not only 4xx paths.
    reads = [label for label in outcome.seen if label.startswith("GET ")]
    assert len(reads) >= 12  # every read, /openapi.json aside (schemathesis skips its own source)
    assert [label for label in reads if 200 not in outcome.seen[label]] == []


def test_no_input_without_a_token_gets_a_5xx_an_undocumented_status_or_into_the_admin_api(
    schema: Any, seeded: dict[str, str]
) -> None:
    outcome = _fuzz(schema, {}, seeded)

    assert outcome.failures == [], outcome.report()
    admitted = {
        label: sorted(status for status in statuses if status < 400)
        for label, statuses in outcome.seen.items()
        if "/v1/admin/" in label
    }
    assert {label: found for label, found in admitted.items() if found} == {}
    assert 200 in outcome.seen["GET /v1/content/articles/{slug}"]
