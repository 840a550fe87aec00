"""Real headless Chromium (Debian's package) driven by Playwright, against the live server."""

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM
# calls from the test body while it is running.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Screenshots of what users see, at a desktop and a phone width, to be opened and judged.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WIDTHS = (1440, 390)
REFUSED_INPUT = re.compile(r"Failed to load resource: the server responded with a status of 40[09]")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-gpu",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def watch_for_errors(page, errors: list[str]) -> None:
    """Record in ``errors`` every JavaScript error and console error the page meets."""
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def on_console(msg):
        # A console error (a missing file, a 404 or 500 from a fetch) is a defect a user would
        # meet too. Input refused with 400 (or 409, changed meanwhile) is the application
        # answering as designed, and Chromium logs it all the same: not a defect.
        if msg.type == "error" and not REFUSED_INPUT.search(msg.text):
            errors.append(f"console: {msg.text} at {msg.location.get('url')}")

    page.on("console", on_console)


@pytest.fixture
def page(browser, settings, live_server):
    # The live server speaks plain HTTP, so cookies cannot be limited to HTTPS here.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = []
    watch_for_errors(page, errors)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def new_page(browser, settings, live_server):
    """Open a page in a browser context of its own (one per user), watched for errors."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    contexts, errors = [], []

    def open_page(**options):
        # Options for the browser context: bypass_csp=True lets a test inject a checker
        # (axe-core) that the page's Content-Security-Policy would rightly refuse.
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        watch_for_errors(page, errors)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"


def screenshot(page, name: str) -> None:
    """Save the page as it is now at each width in WIDTHS, full length, then restore the size."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 1440, "height": 900}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)


def log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
