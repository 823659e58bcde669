"""Who acts: a person or a system, with a role. Services take an Actor; only the HTTP edge
(`auth`) knows how a request proves who it is."""

from __future__ import annotations

from dataclasses import dataclass

from cms.platform.tokens import Role


@dataclass(frozen=True)
class Actor:
    """The caller. `name` is the person behind the token: ownership survives token rotation."""

    name: str
    role: Role

    def at_least(self, role: Role) -> bool:
        return self.role >= role


SYSTEM = Actor(name="system:scheduler", role=Role.admin)
