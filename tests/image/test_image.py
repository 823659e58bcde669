"""The image from deploy/Dockerfile, built with podman and run the way docs/deploy.md promises:
one image for every role, as uid 10001 on a read-only root filesystem, against this machine's
PostgreSQL and RabbitMQ. Opt-in (`make test-image`): it needs podman and local base images."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import asyncpg
import httpx2
import pytest

from consumers.registry import CONSUMERS
from tests.helpers import bearer, fixture, free_port
from tests.image import podman

pytestmark = [pytest.mark.image, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
TAG = os.environ.get("CMS_TEST_IMAGE", "localhost/newsroom-cms:test")
AMQP_URL = os.environ.get("CMS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
SERVER_DSN = os.environ.get("CMS_TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/postgres")

# What each Kubernetes pod gets (docs/deploy.md, "Security"): a read-only root with one writable
# /tmp, no capabilities, no privilege escalation. podman's --read-only alone would also make
# /var/tmp and /run writable; --read-only-tmpfs=false keeps it to the pod's single emptyDir.
HARDENED = [
    "--read-only",
    "--read-only-tmpfs=false",
    "--tmpfs=/tmp",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
]
UID = "10001"
# Paths inside the container, not on this machine.
CONTAINER_TMP = "/tmp"  # noqa: S108
CONTAINER_VAR_TMP = "/var/tmp"  # noqa: S108
# Tries to create a file in each directory given as an argument; prints who tried and what happened.
WRITE_PROBE = """
import json, os, sys
writes = {}
for directory in sys.argv[1:]:
    try:
        open(os.path.join(directory, "probe"), "w").close()
        writes[directory] = "written"
    except OSError as exc:
        writes[directory] = os.strerror(exc.errno)
print(json.dumps({"uid": os.getuid(), "gid": os.getgid(), "writes": writes}))
"""


@dataclass(frozen=True)
class Role:
    name: str
    command: tuple[str, ...]
    port_setting: str


ROLES = (
    Role("api", ("cms", "serve"), "CMS_PORT"),
    Role("relay", ("cms", "relay"), "CMS_RELAY_PORT"),
    Role("search", ("cms-consumer", "search"), "CMS_SEARCH_PORT"),
    Role("social", ("cms-consumer", "social"), "CMS_SOCIAL_PORT"),
    Role("ads", ("cms-consumer", "ads"), "CMS_ADS_PORT"),
)


@dataclass(frozen=True)
class Scratch:
    """This run's own database and broker names, removed afterwards."""

    run_id: str

    @property
    def database(self) -> str:
        return f"cms_image_{self.run_id}"

    @property
    def prefix(self) -> str:
        return f"image_{self.run_id}"

    @property
    def database_url(self) -> str:
        return urlunsplit(urlsplit(SERVER_DSN)._replace(path=f"/{self.database}"))


@dataclass(frozen=True)
class Deployment:
    scratch: Scratch
    ports: dict[str, int]

    def url(self, role: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[role]}{path}"

    def flags(self, role: Role | None = None) -> list[str]:
        """Host networking, the hardening, and settings pointing at this machine's services.
        CMS_HOST is loopback: with the host's network, the image's 0.0.0.0 would listen on
        every interface of the machine."""
        env = {
            "CMS_DATABASE_URL": self.scratch.database_url,
            "CMS_AMQP_URL": AMQP_URL,
            "CMS_AMQP_PREFIX": self.scratch.prefix,
            "CMS_HOST": "127.0.0.1",
            "CMS_PUBLIC_URL": self.url("api", ""),
            "CMS_RELAY_POLL_INTERVAL": "0.2",
            **{r.port_setting: str(self.ports[r.name]) for r in ROLES},
        }
        if role is not None:
            env["HEALTHCHECK_URL"] = self.url(role.name, "/healthz")
        return ["--network=host", *HARDENED, *podman.env_args(env)]


@pytest.fixture(scope="module")
def image() -> podman.Image:
    podman.require_podman()
    built = podman.build(TAG, ROOT, "deploy/Dockerfile")
    print(f"\nimage {built.tag}: {built.size_bytes / 1e6:.0f} MB, built in {built.build_seconds:.1f} s")
    return built


@pytest.fixture(scope="module")
async def scratch() -> AsyncIterator[Scratch]:
    made = Scratch(uuid.uuid4().hex[:8])
    yield made
    admin = await asyncpg.connect(SERVER_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{made.database}" WITH (FORCE)')
    finally:
        await admin.close()
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        for name in CONSUMERS:
            queue = f"{made.prefix}.{name}"
            for suffix in ["", ".dlq", *(f".retry.{n}" for n in range(1, 9))]:
                await channel.queue_delete(queue + suffix, if_unused=False, if_empty=False)
        await channel.exchange_delete(f"{made.prefix}.events")
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def deployment(scratch: Scratch) -> Deployment:
    return Deployment(scratch, {role.name: free_port() for role in ROLES})


@pytest.fixture
def containers(deployment: Deployment) -> Iterator[dict[str, podman.Container]]:
    """The containers a test starts, by role; removed afterwards whatever happened."""
    started: dict[str, podman.Container] = {}
    yield started
    for container in started.values():
        container.remove()


def _wait_ready(deployment: Deployment, role: str, container: podman.Container, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not container.running():
            pytest.fail(f"{role} stopped before it was ready:\n{container.logs()[-4000:]}")
        try:
            if httpx2.get(deployment.url(role, "/readyz"), timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{role} not ready within {within:.0f} s:\n{container.logs()[-4000:]}")


def _search(deployment: Deployment, q: str) -> list[dict[str, object]]:
    response = httpx2.get(deployment.url("search", "/v1/search"), params={"q": q}, timeout=5)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def _found_within(deployment: Deployment, q: str, within: float) -> list[dict[str, object]]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if hits := _search(deployment, q):
            return hits
        time.sleep(0.5)
    return []


def _error_lines(logs: str) -> list[str]:
    """Log lines at error level or above, and anything that is not a JSON log line (a traceback)."""
    bad = []
    for line in logs.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            bad.append(line)
            continue
        if entry.get("level") in ("error", "critical"):
            bad.append(line)
    return bad


def test_the_image_runs_as_uid_10001_who_cannot_write_its_code_schema_or_system(image: podman.Image) -> None:
    """With no run flags, commands run as cms (10001:10001), unable to change the venv, migrations or /etc."""
    dirs = ["/opt/venv/lib/python3.11/site-packages", "/opt/venv/bin", "/app/schema/migrations", "/etc"]
    ran = podman.run_once(image.tag, ["--network=none"], ["python", "-c", WRITE_PROBE, *dirs, CONTAINER_TMP])

    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {
        "uid": 10001,
        "gid": 10001,
        "writes": {**{d: "Permission denied" for d in dirs}, CONTAINER_TMP: "written"},
    }
    assert podman.podman("image", "inspect", "--format", "{{.Config.User}}", image.tag).stdout.strip() == (
        f"{UID}:{UID}"
    )


def test_the_image_ships_the_venv_and_schema_but_no_source_tree_or_installer(image: podman.Image) -> None:
    """The runtime stage holds the installed roles and the SQL migrations, not /src, pip or setuptools."""
    listing = podman.run_once(
        image.tag,
        ["--network=none"],
        ["sh", "-c", "ls /app/schema/migrations; ls /opt/venv/bin; test -e /src && echo HAS-SRC; true"],
    )

    assert listing.returncode == 0, listing.stderr
    names = listing.stdout.split()
    assert "0001_articles.sql" in names
    assert {"cms", "cms-consumer"} <= set(names)
    assert not [name for name in names if name.startswith(("pip", "easy_install", "HAS-SRC"))]


def test_every_role_runs_read_only_from_the_image_finds_the_published_fixture_and_exits_0_on_sigterm(
    image: podman.Image, deployment: Deployment, containers: dict[str, podman.Container]
) -> None:
    """migrate, the API, the relay and each consumer run hardened from one image; a published article
    reaches the search role, and SIGTERM ends every role with exit code 0 and no error logged."""
    migrated = podman.run_once(image.tag, deployment.flags(), ["cms", "migrate"])
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "migration(s) applied: 0001_articles.sql" in migrated.stderr

    for role in ROLES:
        name = f"cms-image-{deployment.scratch.run_id}-{role.name}"
        containers[role.name] = podman.start(image.tag, name, deployment.flags(role), list(role.command))
    for role in ROLES:
        _wait_ready(deployment, role.name, containers[role.name], within=120)

    for role in ROLES:
        container = containers[role.name]
        # The role's own process (PID 1 of the container), seen from the host.
        assert container.top("huser", "hgroup", "capeff") == [UID, UID, "none"], role.name
        assert container.inspect("{{.HostConfig.ReadonlyRootfs}}") == "true", role.name
        health = container.healthcheck()
        assert health.returncode == 0, f"{role.name}: {health.stdout}{health.stderr}"
    # /var/tmp is world-writable in the image: only the read-only root keeps uid 10001 out of it.
    writes = containers["api"].exec("python", "-c", WRITE_PROBE, CONTAINER_VAR_TMP, CONTAINER_TMP)
    assert writes.returncode == 0, writes.stderr
    assert json.loads(writes.stdout)["writes"] == {
        CONTAINER_VAR_TMP: "Read-only file system",
        CONTAINER_TMP: "written",
    }

    token = podman.run_once(
        image.tag, deployment.flags(), ["cms", "token", "create", "--role", "editor", "--name", "image-test"]
    )
    assert token.returncode == 0, token.stderr
    editor = bearer(token.stdout.strip().splitlines()[-1])
    created = httpx2.post(
        deployment.url("api", "/v1/admin/articles"),
        json=fixture("article-stabschefs.de.json"),
        headers=editor,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    article = created.json()
    published = httpx2.post(
        deployment.url("api", f"/v1/admin/articles/{article['id']}/publish"), headers=editor, timeout=10
    )
    assert published.status_code == 200, published.text

    hits = _found_within(deployment, "Pentagon", within=60)
    assert [(hit["id"], hit["title"]) for hit in hits] == [(article["id"], article["title"])]

    for role in ROLES:
        containers[role.name].terminate()
    exits = {role.name: containers[role.name].wait(timeout=90) for role in ROLES}
    assert exits == {role.name: 0 for role in ROLES}
    assert not [role.name for role in ROLES if containers[role.name].running()]
    errors = {role.name: _error_lines(containers[role.name].logs()) for role in ROLES}
    assert errors == {role.name: [] for role in ROLES}
