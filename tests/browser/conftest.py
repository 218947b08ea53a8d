"""Playwright driving Debian's Chromium (Playwright's own browser download is not used)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("COUNTERSIGN_CHROMIUM") or shutil.which("chromium")
    if not executable:
        pytest.fail("Chromium is missing: apt-get install chromium (make test installs it)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # under a loop unless told the calls are synchronous, which they are here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh context per test, collecting CSP violations and page errors."""
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.problems = []

    def on_console(msg) -> None:
        if msg.type == "error" or "Content Security Policy" in msg.text:
            page.problems.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    yield page
    context.close()


@pytest.fixture
def desktop(browser):
    """A desktop-sized context for staff pages, collecting problems like `page`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.problems = []
    page.on(
        "console",
        lambda msg: (
            page.problems.append(msg.text)
            if msg.type == "error" or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    yield page
    context.close()


def sign_in(page, live_server, user) -> None:
    """Give the browser a staff session for `user` (who has MFA) without the login pages;
    the login itself has its own journey test."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
