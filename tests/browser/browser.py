"""Helpers for the browser tests: a real `cms up` on a free loopback port, Debian's headless
Chromium driven by Playwright (never a downloaded browser), sign-in through the UI, axe-core
injected from the front end's node_modules, and screenshots for the docs."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page, async_playwright

from cms.system import SystemSettings
from tests.helpers import free_port
from tests.processes import CMS, Started, started

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
# Every run takes the screenshots (a page that cannot render fails the test), but only
# `make screenshots` (CMS_SCREENSHOTS_UPDATE=1) writes them over the committed ones in the docs:
# a plain `make test` must not leave the checkout changed.
SCREENSHOTS = ROOT / "docs" / "screenshots"
UPDATE_SCREENSHOTS = os.environ.get("CMS_SCREENSHOTS_UPDATE") == "1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT = 60.0


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise AssertionError(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    return found


def _env(settings: SystemSettings, port: int) -> dict[str, str]:
    values: dict[str, Any] = {
        "database_url": settings.database_url,
        "amqp_url": settings.amqp_url,
        "amqp_prefix": settings.amqp_prefix,
        "public_url": f"http://127.0.0.1:{port}",
        # Where "where is it live" finds the consumers: this same process.
        "host": "127.0.0.1",
        "port": port,
        "relay_poll_interval": "0.2",
        "scheduler_interval": "0.2",
        "log_format": "json",
        "log_level": "warning",
        "social_channels": json.dumps(settings.social_channels),
        "social_http_timeout": "2",
    }
    return {**os.environ, **{f"CMS_{name.upper()}": str(value) for name, value in values.items()}}


@contextlib.asynccontextmanager
async def cms_up(settings: SystemSettings) -> AsyncIterator[Started]:
    """`cms up` (API, relay, scheduler, every consumer and the UI) until every part is ready."""
    port = free_port()
    args = [str(CMS), "up", "--host", "127.0.0.1", "--port", str(port)]
    async with started(
        args, port, env=_env(settings, port), ready="/readyz", startup_timeout=STARTUP_TIMEOUT
    ) as up:
        yield up


@dataclass
class Browser:
    context: BrowserContext
    errors: list[str]

    async def page(self) -> Page:
        """A new tab; page errors and CSP violations are collected: a test asserts there are none."""
        page = await self.context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        return page


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Headless Debian Chromium with a fresh profile, for one test."""
    with tempfile.TemporaryDirectory(prefix="cms-ui-test-") as profile:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=chromium_path(),
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": 1280, "height": 900},
                locale="en-GB",
                timezone_id="Europe/Berlin",
            )
            context.set_default_timeout(15_000)
            try:
                yield Browser(context, [])
            finally:
                await context.close()


async def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    """Through the sign-in form, as a person does; waits for the article list."""
    await page.goto(f"{base_url}/admin/signin")
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.click("#signin button[type=submit]")
    await page.wait_for_url(f"{base_url}/admin/")
    await ready(page)


async def ready(page: Page) -> None:
    """The page's module has loaded its data and wired its controls."""
    await page.wait_for_selector("body[data-ready=true]", state="attached")


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    # Evaluated over the DevTools protocol: the page's CSP rightly refuses an inline <script>.
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = await page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def screenshot(page: Page, name: str) -> None:
    image = await page.screenshot(full_page=True)
    assert image.startswith(b"\x89PNG"), f"no screenshot of {name}"
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}.png").write_bytes(image)
