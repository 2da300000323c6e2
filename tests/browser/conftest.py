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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, sync_playwright

from devtools.interactions import DEV_CHANNEL_ID, DEV_DM_CHANNEL_ID
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
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def sandbox_post(stack: LocalStack, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{stack.standin_url}/_sandbox/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Sandbox": "1"},
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

    def open(self) -> None:
        self.page.goto(self.stack.standin_url + "/")
        self.page.locator("#people input:checked").wait_for(state="attached")

    @property
    def input(self) -> Locator:
        return self.page.locator("#input")

    @property
    def messages(self) -> Locator:
        return self.page.locator("#messages > li")

    def type(self, text: str) -> None:
        """Typed as a user types, key by key, so suggestions follow."""
        self.input.click()
        self.input.fill("")
        self.input.press_sequentially(text)

    def send(self, text: str) -> None:
        self.input.fill(text)  # pasted
        self.input.press("Enter")

    def message_with(self, text: str) -> Locator:
        return self.messages.filter(has_text=text).last

    def switch_to(self, person: str) -> None:
        self.page.locator(f"#people input[value='{person}']").check()

    def screenshot(self, name: str) -> None:
        folder = os.environ.get("SANDBOX_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(folder) / name))


@pytest.fixture
def sandbox(stack: LocalStack, browser: Browser) -> Iterator[Sandbox]:
    for channel in (DEV_CHANNEL_ID, DEV_DM_CHANNEL_ID):
        sandbox_post(stack, "clear", {"channel_id": channel})
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    opened = Sandbox(page, stack)
    opened.open()
    yield opened
    context.close()
    assert opened.errors == [], "the page logged errors"
