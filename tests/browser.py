"""Headless Chromium for tests: Debian's chromium driven by Playwright, offline by design.

Playwright's own browser download is never used (`playwright install` needs the internet); the
system chromium is. Every request the page makes is recorded, so a test can assert that nothing
left the machine.
"""

from __future__ import annotations

import contextlib
import shutil
from urllib.parse import urlparse

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    return path


class RequestLog:
    """Every URL a page asked for, and the ones that went off the machine."""

    def __init__(self):
        self.urls: list[str] = []

    def record(self, request) -> None:
        self.urls.append(request.url)

    @property
    def offsite(self) -> list[str]:
        return [
            url
            for url in self.urls
            if urlparse(url).scheme in ("http", "https", "ws", "wss")
            and urlparse(url).hostname not in LOCAL_HOSTS
        ]


@contextlib.contextmanager
def browser_page():
    """A fresh headless page; yields (page, request_log, console_errors)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            context = browser.new_context()
            page = context.new_page()
            requests = RequestLog()
            console_errors: list[str] = []
            page.on("request", requests.record)
            page.on(
                "console",
                lambda message: (
                    console_errors.append(message.text) if message.type == "error" else None
                ),
            )
            yield page, requests, console_errors
        finally:
            browser.close()


def log_in(page, hub_url: str, person) -> None:
    """Log ``person`` (a ``HubUser``) in through the hub's login form in ``page``."""
    page.goto(hub_url)
    page.fill("input[name=username]", person.name)
    page.fill("input[name=password]", person.password)
    page.click("input[type=submit], button[type=submit]")
