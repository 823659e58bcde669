"""A real Varnish (Debian's varnishd with the xkey vmod) in front of a real `cms serve`, both on
loopback, for the tests and benches that prove purging. `deploy/varnish/default.vcl` is used as
shipped: only the site's own part, `cms-backend.vcl` (the backend's address and the purgers), is
written per run into a scratch directory put first on `vcl_path`, where Varnish finds includes."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from tests.helpers import free_port
from tests.processes import CMS, Started, started

ROOT = Path(__file__).resolve().parents[1]
VCL_DIR = ROOT / "deploy" / "varnish"
DEFAULT_VCL = VCL_DIR / "default.vcl"
STARTUP_TIMEOUT = 30.0


def installed() -> bool:
    """Whether varnishd and the xkey vmod are here (`make varnish` installs both)."""
    return shutil.which("varnishd") is not None


def backend_vcl(port: int, purgers: tuple[str, ...] = ("127.0.0.1", "::1")) -> str:
    """The site's part of the VCL: `cms serve` on loopback at `port`, and who may purge."""
    allowed = "\n".join(f'    "{address}";' for address in purgers)
    return (
        "backend cms {\n"
        '    .host = "127.0.0.1";\n'
        f'    .port = "{port}";\n'
        "    .connect_timeout = 1s;\n"
        "    .first_byte_timeout = 10s;\n"
        "}\n\n"
        f"acl purgers {{\n{allowed}\n}}\n"
    )


@contextlib.asynccontextmanager
async def varnish(
    backend_port: int, purgers: tuple[str, ...] = ("127.0.0.1", "::1")
) -> AsyncIterator[Started]:
    """varnishd in the foreground on a free loopback port, stopped (by its PID) afterwards."""
    with tempfile.TemporaryDirectory(prefix="cms-varnish-") as scratch:
        _prepare(Path(scratch), backend_vcl(backend_port, purgers))
        port = free_port()
        args = [
            "varnishd", "-F",
            "-a", f"127.0.0.1:{port}",
            "-f", str(DEFAULT_VCL),
            "-n", str(Path(scratch, "work")),
            "-s", "malloc,64m",
            "-p", f"vcl_path={scratch}:/usr/share/varnish/vcl",
        ]  # fmt: skip
        async with started(
            args,
            port,
            any_answer=True,
            with_stdout=True,
            keep_lines=200,
            startup_timeout=STARTUP_TIMEOUT,
            stop_timeout=10,
        ) as running:
            running.workdir = str(Path(scratch, "work"))
            yield running


def _prepare(scratch: Path, site_vcl: str) -> None:
    # varnishd reads the VCL as its own unprivileged user once it dropped root.
    scratch.chmod(0o755)
    (scratch / "cms-backend.vcl").write_text(site_vcl, encoding="utf-8")


@contextlib.asynccontextmanager
async def cms_serve(database_url: str, env: Mapping[str, str] | None = None) -> AsyncIterator[Started]:
    """`cms serve` on a free loopback port, as operators run it."""
    port = free_port()
    environment = {
        **os.environ,
        "CMS_DATABASE_URL": database_url,
        "CMS_LOG_FORMAT": "json",
        "CMS_LOG_LEVEL": "warning",
        **(env or {}),
    }
    args = [str(CMS), "serve", "--host", "127.0.0.1", "--port", str(port)]
    async with started(
        args,
        port,
        env=environment,
        any_answer=True,
        with_stdout=True,
        keep_lines=200,
        startup_timeout=STARTUP_TIMEOUT,
        stop_timeout=10,
    ) as running:
        yield running
