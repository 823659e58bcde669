"""A three-node RabbitMQ cluster on loopback, started and stopped by the test itself.

Each node has its own name, AMQP and distribution ports and data directory under a
temporary folder; they share an Erlang cookie written there. Uses the machine's RabbitMQ
installation (the scripts under /usr/lib/rabbitmq/bin, or RABBITMQ_BIN).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import free_port

BIN = Path(os.environ.get("RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))


@dataclass(frozen=True)
class Node:
    name: str
    amqp_port: int
    dist_port: int
    base: Path

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"


class Cluster:
    def __init__(self, workdir: Path, size: int = 3) -> None:
        self.workdir = workdir
        self.home = workdir / "home"
        tag = secrets.token_hex(3)
        self.nodes = [
            Node(f"cms{tag}n{i}@localhost", free_port(), free_port(), workdir / f"n{i}")
            for i in range(1, size + 1)
        ]

    @property
    def urls(self) -> str:
        """All nodes, for CMS_AMQP_URL."""
        return ",".join(node.url for node in self.nodes)

    def _env(self, node: Node | None = None) -> dict[str, str]:
        env = {**os.environ, "HOME": str(self.home)}
        if node is not None:
            env |= {
                "RABBITMQ_NODENAME": node.name,
                "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                "RABBITMQ_NODE_PORT": str(node.amqp_port),
                "RABBITMQ_DIST_PORT": str(node.dist_port),
                "RABBITMQ_MNESIA_BASE": str(node.base / "mnesia"),
                "RABBITMQ_LOG_BASE": str(node.base / "log"),
                "RABBITMQ_PID_FILE": str(node.base / "pid"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.workdir / "enabled_plugins"),
                "RABBITMQ_CONFIG_FILE": str(node.base / "rabbitmq"),
            }
        return env

    def ctl(self, node: Node, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(  # noqa: S603 (our own fixed arguments)
            [str(BIN / "rabbitmqctl"), "-n", node.name, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return result.stdout

    def start(self) -> None:
        self.home.mkdir(parents=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16))
        cookie.chmod(0o400)
        (self.workdir / "enabled_plugins").write_text("[].\n")
        for node in self.nodes:
            node.base.mkdir(parents=True)
            subprocess.run(  # noqa: S603
                [str(BIN / "rabbitmq-server"), "-detached"], env=self._env(node), check=True, timeout=60
            )
        for node in self.nodes:
            self._await_startup(node)
        first = self.nodes[0]
        for node in self.nodes[1:]:
            self.ctl(node, "stop_app")
            self.ctl(node, "join_cluster", first.name)
            self.ctl(node, "start_app")

    def _await_startup(self, node: Node, within: float = 120.0) -> None:
        """`await_startup` fails at once (69) until the node has registered: ask again."""
        deadline = time.monotonic() + within
        while True:
            try:
                self.ctl(node, "await_startup", timeout=within)
                return
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def stop_node(self, node: Node) -> None:
        self.ctl(node, "stop")

    def stop(self) -> None:
        for node in self.nodes:
            # A node the test stopped already answers with an error: that is fine here.
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self.ctl(node, "stop", timeout=60)

    def leader_of(self, queue: str) -> Node:
        """The node leading a quorum queue (asked of any running node)."""
        for asking in self.nodes:
            try:
                out = self.ctl(asking, "list_queues", "name", "leader", "--quiet", "--no-table-headers")
            except subprocess.CalledProcessError:
                continue
            for line in out.splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] == queue:
                    return next(n for n in self.nodes if n.name == parts[1])
        raise LookupError(f"no leader found for {queue}")
