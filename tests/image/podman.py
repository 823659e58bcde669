"""podman, driven the way an operator would: build an image, run a one-shot command, start a
detached container, signal it and read its exit code. Only containers this module started are
ever stopped or removed, by the name it gave them."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


def podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run podman and return what it did; the caller decides what counts as failure."""
    return subprocess.run(  # noqa: S603 (our own arguments)
        ["podman", *args],  # noqa: S607 (found on PATH, as an operator runs it)
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def require_podman() -> None:
    """Fail (not skip: the run was asked for) when podman or its setup for this machine is missing."""
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed; run `make test-image`, which installs and prepares it")
    if not os.environ.get("CONTAINERS_CONF"):
        # Without the setup podman picks crun and default rlimits, which this kind of machine refuses.
        pytest.fail("CONTAINERS_CONF is not set; run `make test-image` (it sources the containers setup)")


@dataclass(frozen=True)
class Image:
    tag: str
    size_bytes: int
    build_seconds: float


def build(tag: str, root: Path, dockerfile: str) -> Image:
    """Build `dockerfile` with `root` as the context, in Docker's image format: the OCI format
    has no HEALTHCHECK, and podman drops it with a warning."""
    started = time.monotonic()
    result = podman("build", "--format", "docker", "-f", dockerfile, "-t", tag, str(root), timeout=1500)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        output = result.stdout[-4000:] + result.stderr[-4000:]
        pytest.fail(f"podman build failed ({result.returncode}):\n{output}")
    size = podman("image", "inspect", "--format", "{{.Size}}", tag)
    return Image(tag=tag, size_bytes=int(size.stdout.strip()), build_seconds=seconds)


def env_args(env: dict[str, str]) -> list[str]:
    return [f"--env={name}={value}" for name, value in env.items()]


@dataclass(frozen=True)
class Container:
    name: str

    def inspect(self, template: str) -> str:
        return podman("container", "inspect", "--format", template, self.name).stdout.strip()

    def running(self) -> bool:
        return self.inspect("{{.State.Running}}") == "true"

    def logs(self) -> str:
        result = podman("logs", self.name)
        return result.stdout + result.stderr

    def top(self, *descriptors: str) -> list[str]:
        """One row of `podman top` for the container's first process: the role itself."""
        rows = podman("top", self.name, *descriptors).stdout.splitlines()
        return rows[1].split()

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        return podman("exec", self.name, *command)

    def healthcheck(self) -> subprocess.CompletedProcess[str]:
        """The image's own HEALTHCHECK, run once (podman has no timer for it without systemd)."""
        return podman("healthcheck", "run", self.name)

    def terminate(self) -> None:
        result = podman("kill", "--signal", "TERM", self.name)
        assert result.returncode == 0, result.stderr

    def wait(self, timeout: float) -> int:
        """The exit code once the container has stopped."""
        result = podman("wait", self.name, timeout=timeout)
        assert result.returncode == 0, result.stderr
        return int(result.stdout.strip())

    def remove(self) -> None:
        podman("rm", "--force", "--time", "0", self.name)


def start(image: str, name: str, flags: list[str], command: list[str]) -> Container:
    result = podman("run", "--detach", "--name", name, *flags, image, *command)
    if result.returncode != 0:
        pytest.fail(f"podman run {name} failed ({result.returncode}): {result.stderr[-2000:]}")
    return Container(name)


def run_once(
    image: str, flags: list[str], command: list[str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """A one-shot container (migrate, a token, a probe), removed when it exits."""
    return podman("run", "--rm", *flags, image, *command, timeout=timeout)
