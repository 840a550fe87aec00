"""The API documentation page works under the site's Content-Security-Policy: Swagger UI's
scripts and styles come from the project's own files, so the browser refuses nothing."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_for_a_signed_in_user_with_nothing_refused(page, rep):
    page.goto("/api/docs/")
    page.wait_for_url("**/login/?next=/api/docs/")  # not for strangers
    log_in(page, "rep", "pw-for-tests-only")
    page.goto("/api/docs/")
    expect(page.locator("#swagger-ui")).to_contain_text("Switchboard API", timeout=15_000)
    expect(page.locator("#swagger-ui")).to_contain_text("/api/v1/tickets/")
    screenshot(page, "api-docs")
