"""End to end in headless Chromium: a rep logs a bug call with the keyboard only, sees the
caller's standing, saves, and watches routing's outcome arrive on the ticket page; a refused
save keeps what was typed; a concurrent edit is refused."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.factories import ContactFactory, CustomerFactory, InvoiceFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_update

pytestmark = [pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"
TICKET_PAGE = re.compile(r"/tickets/\d+/$")
# What sticks out of its card on the right (a squeezed select, an unbroken word), if anything.
STICKING_OUT = """() => Array.from(document.querySelectorAll(".card *")).filter((el) => {
    const card = el.closest(".card").getBoundingClientRect();
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > card.right + 1 && !el.closest(".table-scroll");
}).map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")).slice(0, 5)"""


@pytest.fixture
def cobalt(salesperson):
    customer = CustomerFactory(name="Cobalt Mining", salesperson=salesperson)
    ContactFactory(customer=customer, name="Carla Stone", phone="+44 20 7946 0018")
    InvoiceFactory(
        customer=customer, amount="980.00", due_on=timezone.localdate() - timedelta(days=12)
    )
    return customer


@pytest.mark.worker
def test_rep_logs_a_bug_call_with_the_keyboard_and_sees_routing_arrive(
    page, rep, cobalt, starter_rules, live_worker
):
    log_in(page, "rep", PASSWORD)
    page.keyboard.press("n")
    page.wait_for_url("**/tickets/new/")
    expect(page.get_by_label("Customer", exact=True)).to_be_focused()

    page.keyboard.type("cobalt")
    expect(page.get_by_role("option", name="Cobalt Mining")).to_be_visible()
    page.keyboard.press("Enter")
    standing = page.locator("#standing")
    expect(standing).to_contain_text("1 overdue invoice: USD 980.00 overdue of USD 980.00")
    expect(standing).to_contain_text("No service contract")

    page.keyboard.press("Tab")  # Contact: the customer's only contact is already chosen
    expect(page.get_by_label("Contact", exact=True)).to_be_focused()
    expect(page.get_by_label("Contact", exact=True)).to_have_value(str(cobalt.contacts.get().pk))
    page.keyboard.press("Tab")  # Kind
    page.keyboard.press("b")
    expect(page.get_by_label("Bug report")).to_be_checked()
    page.keyboard.press("Tab")
    page.keyboard.type("Reports")  # Product
    page.keyboard.press("Tab")  # Priority stays normal
    page.keyboard.press("Tab")
    page.keyboard.type("Export crashes at row 1000")  # Subject
    page.keyboard.press("Tab")
    page.keyboard.type("Since 2.3 the CSV export stops with an error.")  # Description
    page.keyboard.press("Control+Enter")

    page.wait_for_url(TICKET_PAGE)
    ticket = Ticket.objects.get()
    assert ticket.kind == "bug"
    assert ticket.product == "Reports"
    assert ticket.contact == cobalt.contacts.get()
    expect(page.locator(".messages")).to_contain_text(f"Logged {ticket.reference}.")
    page.evaluate("window.stillHere = true")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Notified Engineering", timeout=15_000)
    expect(timeline).to_contain_text("Notified Finance")
    assert page.evaluate("window.stillHere") is True  # arrived without a reload

    # Found again by a word of its description, from the ticket list's search box.
    page.get_by_role("link", name="Tickets", exact=True).click()
    page.get_by_label("Search").fill("error")
    page.keyboard.press("Enter")
    expect(page.locator("table.tickets tbody tr")).to_have_count(1)
    expect(page.locator("table.tickets")).to_contain_text(ticket.reference)


def test_a_refused_save_keeps_what_was_typed(page, rep, cobalt):
    log_in(page, "rep", PASSWORD)
    page.goto("/tickets/new/")
    page.get_by_label("Customer", exact=True).fill("Cobalt")
    page.get_by_role("option", name="Cobalt Mining").click()
    page.get_by_label("Return materials authorization").check()
    page.get_by_label("Subject").fill("Unit arrived cracked")
    page.get_by_label("Description").fill("Box crushed, <b>screen</b> split")
    page.get_by_role("button", name="Save the call").click()

    expect(page.locator("#rma-details")).to_be_visible()
    expect(page.get_by_label("Serial number")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Description")).to_have_value("Box crushed, <b>screen</b> split")
    expect(page.get_by_label("Subject")).to_have_value("Unit arrived cracked")
    expect(page.get_by_label("Customer", exact=True)).to_have_value("Cobalt Mining")
    expect(page.locator("#standing")).to_contain_text("overdue invoice")
    assert not Ticket.objects.exists()
    screenshot(page, "call-log-refused")
    page.set_viewport_size({"width": 390, "height": 800})
    sideways = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
    assert sideways <= 0, f"Log a call scrolls sideways by {sideways}px on a phone"
    assert page.evaluate(STICKING_OUT) == []
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_label("Serial number").fill("SN-4411")
    page.get_by_label("Order number").fill("SO-2026-118")
    page.get_by_label("Reason for return").fill("Damaged in transit")
    page.get_by_role("button", name="Save the call").click()
    page.wait_for_url(TICKET_PAGE)
    ticket = Ticket.objects.get()
    expect(page.locator(".rma-number")).to_contain_text(ticket.rma_number)


def test_the_second_of_two_concurrent_edits_is_refused(page, rep, cobalt):
    ticket = ticket_create(customer=cobalt, kind="bug", channel="phone", subject="Crash")
    log_in(page, "rep", PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    # Meanwhile a colleague raises the priority.
    colleague = UserFactory(username="colleague", first_name="Cole", last_name="League")
    ticket_update(ticket=ticket, actor=colleague, priority="urgent")

    page.get_by_label("Priority").select_option("low")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".conflict")).to_contain_text("was changed by Cole League")
    expect(page.get_by_label("Priority")).to_have_value("low")  # what the rep chose, kept
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"


def test_keyboard_details_enter_before_matches_and_focus_after_errors(page, rep, cobalt):
    log_in(page, "rep", PASSWORD)
    page.goto("/tickets/new/")
    # Enter at once, before the matches have arrived, takes the first match; it never submits.
    page.keyboard.type("cobalt")
    page.keyboard.press("Enter")
    expect(page.locator("#standing")).to_contain_text("Cobalt Mining")
    assert page.url.endswith("/tickets/new/")
    # Save with nothing else filled: the keyboard lands on the first field in error.
    page.keyboard.press("Control+Enter")
    page.wait_for_load_state("load")
    expect(page.locator("#error-summary")).to_contain_text("Not saved")
    expect(page.get_by_label("Subject")).to_be_focused()
    # Ctrl+Enter from a "same problem" box (outside the form element) saves the form too.
    earlier = ticket_create(customer=cobalt, kind="bug", channel="phone", subject="Crash")
    page.get_by_label("Customer", exact=True).fill("")
    page.get_by_label("Customer", exact=True).type("cobalt")
    page.keyboard.press("Enter")
    page.get_by_label("Subject").fill("Crash again")
    box = page.get_by_label(f"Same problem as {earlier.reference}")
    box.check()
    box.focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_url(TICKET_PAGE)
    ticket = Ticket.objects.exclude(pk=earlier.pk).get()
    assert list(ticket.related.all()) == [earlier]
