"""End to end in headless Chromium: input past the limits (docs/api.md, "Limits") is refused
with a message a rep can act on, never a server error, and nothing typed is lost."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tickets.limits import TEXT_MAX_LENGTH
from tickets.services import ticket_create

pytestmark = [pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"


def test_a_pasted_log_past_the_limit_is_refused_whole_with_its_length(page, rep, customer):
    ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
    log_in(page, "rep", PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    log = ("ERROR worker 7 lost its lease; retrying\n" * 3000)[: TEXT_MAX_LENGTH + 1]
    # As a paste lands (fill() types it out, far too slowly for 100,000 characters).
    page.get_by_label("Note").evaluate("(box, text) => { box.value = text; }", log)
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text(f"Keep it to at most {TEXT_MAX_LENGTH:,} characters")).to_be_visible()
    # All of it is kept to trim, not cut short by the browser or the server.
    assert len(page.get_by_label("Note").input_value()) == TEXT_MAX_LENGTH + 1
    expect(page.get_by_text(f"(this has {TEXT_MAX_LENGTH + 1:,})")).to_be_visible()
    assert not ticket.timeline.filter(kind="note").exists()
    screenshot(page, "ticket-page-note-too-long")

    # Trimmed to the limit it is taken: each line break counts once, as the rep sees it,
    # although the browser sends it as two characters.
    page.get_by_label("Note").evaluate("(box) => { box.value = box.value.slice(0, -1); }")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline")).to_contain_text("ERROR worker 7 lost its lease")
    assert ticket.timeline.get(kind="note").body == log[:TEXT_MAX_LENGTH].strip()


def test_a_time_zone_offset_no_place_uses_is_explained_on_the_list(page, rep, customer):
    ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
    log_in(page, "rep", PASSWORD)
    response = page.goto("/tickets/?created_after=2026-01-01T00:00:00%2B16:00")
    assert response.status < 500
    expect(page.get_by_text("No place uses this time-zone offset")).to_be_visible()
    screenshot(page, "ticket-list-offset-refused")
