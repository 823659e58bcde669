"""Audit lines: who did what to whom, from where. One structlog line per security-relevant act,
named `audit.*`, with the actor and the address; never a password, a token or a session id."""

from __future__ import annotations

from typing import Any

import structlog

_log = structlog.get_logger("cms.audit")

# Who acts when nobody signed in does: the operator at the command line.
COMMAND_LINE = "cli"


def record(event: str, *, actor: str | None, address: str | None, **fields: Any) -> None:
    """`event` without the `audit.` prefix, e.g. `signin.failed`."""
    _log.info(f"audit.{event}", actor=actor, address=address, **fields)
