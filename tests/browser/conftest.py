"""The sandbox page in a real browser: ``make run`` started once for these tests, headless
Chromium (Debian's ``chromium``) driven by Playwright, a fresh page for each test.

Each test's page must log no console errors: the fixture fails the test otherwise. Chromium
is found as ``chromium`` on PATH (or ``SANDBOX_CHROMIUM``); without it these tests fail, saying
how to install it, unless ``SKIP_BROWSER_TESTS=1`` asks to leave them out.
With ``SANDBOX_SCREENSHOTS=DIR`` (``make screenshots``) tests save what they show there.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Locator, Page, async_playwright

from devtools.interactions import DEV_CHANNEL_ID, DEV_DM_CHANNEL_ID
from devtools.standin.guard import HEADERS
from tests.local_stack import LocalStack, make_run

# Without these, Chromium reaches for Google's services at start, and this machine's closed
# network refuses it many times over; headless as root needs --no-sandbox.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1400, "height": 900}


def chromium_path() -> str:
    found = os.environ.get("SANDBOX_CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    if os.environ.get("SKIP_BROWSER_TESTS") == "1":
        pytest.skip("SKIP_BROWSER_TESTS=1: the sandbox page is not tested in a browser")
    pytest.fail(
        "the sandbox's browser tests need Chromium: `apt-get install chromium` (Debian, "
        "Ubuntu), or set SANDBOX_CHROMIUM to a Chromium binary; SKIP_BROWSER_TESTS=1 leaves "
        "them out"
    )


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with make_run(tmp_path_factory.mktemp("make-run")) as running:
        yield running


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the session (Playwright's asynchronous API, on the tests' loop)."""
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


def sandbox_post(stack: LocalStack, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{stack.standin_url}/_sandbox/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **HEADERS},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


class Sandbox:
    """The page, and what a user does on it."""

    def __init__(self, page: Page, stack: LocalStack) -> None:
        self.page = page
        self.stack = stack
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    async def open(self) -> None:
        await self.page.goto(self.stack.standin_url + "/")
        await self.page.locator("#people input:checked").wait_for(state="attached")

    @property
    def input(self) -> Locator:
        return self.page.locator("#input")

    @property
    def messages(self) -> Locator:
        return self.page.locator("#messages > li")

    async def type(self, text: str) -> None:
        """Typed as a user types, key by key, so suggestions follow."""
        await self.input.click()
        await self.input.fill("")
        await self.input.press_sequentially(text)

    async def send(self, text: str) -> None:
        await self.input.fill(text)  # pasted
        await self.input.press("Enter")

    def message_with(self, text: str) -> Locator:
        return self.messages.filter(has_text=text).last

    async def switch_to(self, person: str) -> None:
        await self.page.locator(f"#people input[value='{person}']").check()

    async def screenshot(self, name: str) -> None:
        folder = os.environ.get("SANDBOX_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            await self.page.screenshot(path=str(Path(folder) / name))


@pytest.fixture
async def sandbox(stack: LocalStack, browser: Browser) -> AsyncIterator[Sandbox]:
    for channel in (DEV_CHANNEL_ID, DEV_DM_CHANNEL_ID):
        sandbox_post(stack, "clear", {"channel_id": channel})
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    opened = Sandbox(page, stack)
    await opened.open()
    yield opened
    await context.close()
    assert opened.errors == [], "the page logged errors"
