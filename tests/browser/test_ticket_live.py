"""The ticket page in headless Chromium, with two people on one ticket: each sees the other is
viewing it, and when one changes it the other's facts follow and a warning says who changed
it, without a reload; the facts include the departments' response targets."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Department, Membership
from tests.browser.conftest import log_in, screenshot
from tests.conftest import dispatch_pending
from tests.factories import UserFactory
from tickets.services import ticket_create

pytestmark = [pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"


def test_two_reps_on_one_ticket_see_each_other_and_each_others_changes(
    new_page, settings, customer, starter_rules
):
    settings.TICKET_LIVE_SECONDS = 1
    support = Department.objects.get(slug="support")
    for username, first in (("rita", "Rita"), ("lea", "Lea")):
        user = UserFactory(username=username, first_name=first, last_name="Rep")
        Membership.objects.create(user=user, department=support)
    ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject="Export crashes")
    dispatch_pending()

    rita = new_page()
    log_in(rita, "rita", PASSWORD)
    rita.goto(f"/tickets/{ticket.pk}/")
    facts = rita.locator("#facts")
    expect(facts).to_contain_text("Response targets")
    expect(facts).to_contain_text(re.compile(r"Engineering: take on by .* left"))
    rita.evaluate("window.stillHere = true")

    lea = new_page()
    log_in(lea, "lea", PASSWORD)
    lea.goto(f"/tickets/{ticket.pk}/")
    expect(rita.locator("#presence")).to_have_text("Lea Rep is viewing this ticket too.")
    expect(lea.locator("#presence")).to_have_text("Rita Rep is viewing this ticket too.")
    expect(rita.locator("#changed-warning")).to_be_empty()

    lea.get_by_label("Priority").select_option("urgent")
    lea.get_by_role("button", name="Save changes").click()
    expect(lea.locator(".message-success")).to_be_visible()

    warning = rita.locator("#changed-warning")
    expect(warning).to_contain_text(re.compile(r"Lea Rep changed this ticket at \d\d:\d\d"))
    expect(warning.get_by_role("link", name="reload the page")).to_have_attribute(
        "href", f"/tickets/{ticket.pk}/"
    )
    expect(facts.locator(".badge.priority-urgent")).to_have_text("Urgent")
    assert rita.evaluate("window.stillHere") is True
    screenshot(rita, "ticket-changed-meanwhile")

    # Lea leaves: after three silent rounds she is no longer shown as viewing.
    lea.close()
    expect(rita.locator("#presence")).to_be_hidden(timeout=8_000)
    # Reloaded, the page is current and warns of nothing.
    rita.reload()
    expect(rita.locator("#changed-warning")).to_be_empty()
