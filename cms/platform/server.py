"""Serving an application: uvicorn, drained on SIGTERM, exiting 0."""

from __future__ import annotations

import signal
from types import FrameType

import uvicorn
from starlette.applications import Starlette


class _DrainingServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM once it has drained, so the process ends killed (-15); our
    contract with supervisors is a clean exit 0 after a graceful drain."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if sig == signal.SIGTERM:
            self._captured_signals = [s for s in self._captured_signals if s != signal.SIGTERM]


async def run_server(application: Starlette, host: str, port: int) -> None:
    """uvicorn drains on SIGTERM: in-flight requests finish, then the lifespan stops the workers."""
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
        log_level="warning",
        server_header=False,
    )
    await _DrainingServer(config).serve()
