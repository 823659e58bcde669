"""Who acts: a person or a system, with a role. Services take an Actor; only the HTTP edge
(`auth`) knows how a request proves who it is (a token or a browser session)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from cms.platform.roles import Role


@dataclass(frozen=True)
class Actor:
    """The caller. `name` is what records carry (revisions, events, owners, approvals): a person's
    email or a machine's name, the same whether they come with a token or a session, so
    ownership survives token rotation and signing in again."""

    name: str
    role: Role
    user_id: uuid.UUID | None = None
    display_name: str | None = None

    def at_least(self, role: Role) -> bool:
        return self.role >= role


SYSTEM = Actor(name="system:scheduler", role=Role.admin)
