"""Fuzzing an API from its own OpenAPI document with schemathesis: every operation, with
valid and with invalid input, each answer checked for a 5xx and for a status the document
does not list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

# Examples per operation and generation mode: enough to reach the odd corners, small enough
# that the whole file runs in seconds.
EXAMPLES = 20
CHECKS = [not_a_server_error, status_code_conformance]
_METHOD_ORDER = ("GET", "PATCH", "POST", "PUT", "DELETE")


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)  # per operation and mode, with the request
    seen: dict[str, set[int]] = field(default_factory=dict)  # the statuses each operation answered

    def report(self) -> str:
        return "\n\n".join(self.failures)


def fuzz(schema: Any, headers: dict[str, str], known: dict[str, str], minimum: int = 14) -> Outcome:
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
    """Invalid input needs an input to spoil: an operation that takes none gets only valid requests.
    A free-form header (If-None-Match: any string) cannot be spoilt, so alone it is no input."""
    raw = operation.definition.raw
    spoilable = [param for param in raw.get("parameters", ()) if param.get("in") != "header"]
    takes_input = bool(spoilable) or "requestBody" in raw
    return list(schemathesis.GenerationMode) if takes_input else [schemathesis.GenerationMode.POSITIVE]


def _strategy(operation: Any, mode: schemathesis.GenerationMode, known: dict[str, str]) -> Any:
    """Generated cases, and as many again with the path naming a seeded article (or user)."""
    strategies = [operation.as_strategy(generation_mode=mode)]
    path = operation.path
    if path.startswith("/v1/admin/users/") and "user_id" in known:
        strategies.append(
            operation.as_strategy(generation_mode=mode, path_parameters={"id": known["user_id"]})
        )
    elif "{id}" in path:
        for article_id in (known["draft_id"], known["live_id"]):
            # Versions (one, or both ends of a diff) that the seeded articles have.
            versions = {name: 1 for name in ("version", "a", "b") if f"{{{name}}}" in path}
            fixed = {"id": article_id, **versions}
            strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    if "{token}" in path and "preview_token" in known:
        strategies.append(
            operation.as_strategy(generation_mode=mode, path_parameters={"token": known["preview_token"]})
        )
    if "{slug}" in path:
        strategies.append(
            operation.as_strategy(generation_mode=mode, path_parameters={"slug": known["live_slug"]})
        )
    if path == "/v1/content/redirects" and "redirect_path" in known:
        strategies.append(operation.as_strategy(generation_mode=mode, query={"path": known["redirect_path"]}))
    return st.one_of(strategies)


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
