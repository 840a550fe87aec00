"""In Chromium: guessing at a password on the login page ends on a page that says why, and the
right password is refused there too until the cool-off has passed."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, watch_for_errors

pytestmark = [pytest.mark.django_db(transaction=True)]

# The lockout page is itself a 429, which Chromium logs as a failed resource: that is the page
# working as designed. Any other console or script error still fails the test.
LOCKOUT_ANSWER = re.compile(r"Failed to load resource: the server responded with a status of 429")


@pytest.fixture
def login_page(browser, settings, live_server):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    watch_for_errors(page, errors)
    yield page
    context.close()
    assert not [e for e in errors if not LOCKOUT_ANSWER.search(e)], errors


def _submit(page, username, password):
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_guessing_ends_on_a_page_that_says_why(login_page, rep):
    page = login_page
    page.goto("/login/")
    for n in range(settings.LOGIN_FAILURE_LIMIT - 1):
        _submit(page, "rep", f"guess-{n}")
        expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    screenshot(page, "login-wrong-password")

    _submit(page, "rep", "one-guess-too-many")
    expect(page.get_by_role("heading", name="Login paused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Try again in {settings.LOGIN_COOLOFF_MINUTES} minutes"
    )
    screenshot(page, "login-locked-out")

    page.get_by_role("link", name="Back to log in").click()
    _submit(page, "rep", "pw-for-tests-only")
    expect(page.get_by_role("heading", name="Login paused")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
