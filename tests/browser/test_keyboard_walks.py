"""A working day by keyboard alone, in headless Chromium: a rep logs a call, finds a ticket,
writes to the customer and resolves it; a department member opens their queue, takes an item
on, answers it and marks it done. No pointer event reaches any page, and no page logs an error
(the ``page`` fixture fails the test on any)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Department, Membership
from conversations.models import Message
from queues.models import Notification
from tests.browser.conftest import screenshot
from tests.conftest import dispatch_pending
from tests.factories import ContactFactory, CustomerFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = [pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"

# Counts, across page loads, every pointer event a real mouse, pen or finger would make.
COUNT_POINTERS = """
for (const type of ["pointerdown", "mousedown", "touchstart"]) {
  window.addEventListener(type, (event) => {
    if (event.isTrusted) {
      sessionStorage.pointers = String(Number(sessionStorage.pointers || 0) + 1);
    }
  }, true);
}
"""


def pointer_events(page) -> int:
    return int(page.evaluate("Number(sessionStorage.pointers || 0)"))


def keyboard_log_in(page, username: str) -> None:
    page.goto("/login/")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login/" not in url)


def tab_to(page, label: str, *, limit: int = 40) -> None:
    """Press Tab until the field labelled ``label`` has the focus."""
    target = page.get_by_label(label, exact=True)
    for _ in range(limit):
        if target.evaluate("(element) => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {label!r}")


def test_a_reps_day_by_keyboard(page, rep):
    page.context.add_init_script(COUNT_POINTERS)
    customer = CustomerFactory(name="Cobalt Mining")
    contact = ContactFactory(customer=customer, name="Carla Stone", email="carla@cobalt.test")
    older = ticket_create(
        customer=customer,
        contact=contact,
        kind="call",
        channel="email",
        subject="Invoices page is blank",
        description="Since Monday the invoices page shows nothing.",
    )
    keyboard_log_in(page, "rep")

    # Log a call: "n", the customer by typing, the kind by its letter, Ctrl+Enter to save.
    page.keyboard.press("n")
    page.wait_for_url("**/tickets/new/")
    expect(page.get_by_label("Customer", exact=True)).to_be_focused()
    page.keyboard.type("cobalt")
    expect(page.get_by_role("option", name="Cobalt Mining", exact=True)).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the contact: the customer's only one is chosen
    page.keyboard.press("Tab")
    page.keyboard.press("c")  # a call (question)
    tab_to(page, "Subject")
    page.keyboard.type("How to export to CSV")
    page.keyboard.press("Tab")
    page.keyboard.type("Asked where the export button went.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/tickets/\d+/$"))
    logged = Ticket.objects.exclude(pk=older.pk).get()
    expect(page.locator(".messages")).to_contain_text(f"Logged {logged.reference}.")

    # Find the older ticket: "g t", "/", words, Enter; "j" and Enter open it.
    page.keyboard.press("g")
    page.keyboard.press("t")
    page.wait_for_url(re.compile(r"/tickets/$"))
    page.keyboard.press("/")
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.type("invoices blank")
    page.keyboard.press("Enter")
    expect(page.locator("table.tickets tbody tr")).to_have_count(1)
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{older.pk}/")

    # Reply to the customer: "r", the words, Ctrl+Enter.
    page.keyboard.press("r")
    expect(page.get_by_label("Reply", exact=True)).to_be_focused()
    page.keyboard.type("Fixed: please reload the invoices page.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".messages")).to_contain_text("Reply sent to carla@cobalt.test")
    assert Message.objects.filter(ticket=older, text__contains="please reload").exists()

    # Resolve it: "s" reaches the status, "r" picks Resolved, then the root cause and words.
    page.keyboard.press("s")
    expect(page.get_by_label("Status")).to_be_focused()
    page.keyboard.press("r")
    expect(page.get_by_label("Status")).to_have_value("resolved")
    tab_to(page, "Root cause")
    page.keyboard.press("u")  # Usability
    expect(page.get_by_label("Root cause")).to_have_value("usability")
    page.keyboard.press("Tab")
    page.keyboard.type("The page needed a reload after the upgrade.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".message-success")).to_be_visible()
    older.refresh_from_db()
    assert older.status == "resolved"
    assert older.root_cause == "usability"
    screenshot(page, "keyboard-walk-rep-resolved")
    assert pointer_events(page) == 0


def test_a_department_members_day_by_keyboard(page, customer, starter_rules):
    page.context.add_init_script(COUNT_POINTERS)
    engineer = UserFactory(username="erin", first_name="Erin", last_name="Engineer")
    Membership.objects.create(user=engineer, department=Department.objects.get(slug="engineering"))
    bug = ticket_create(
        customer=customer,
        kind="bug",
        channel="phone",
        subject="Export crashes",
        description="Exporting a 20 MB report crashes the app.",
    )
    dispatch_pending()
    item = Notification.objects.get(ticket=bug, department__slug="engineering")
    keyboard_log_in(page, "erin")

    # Open the queue: "g q"; "j" picks the item, Enter opens it beside the list.
    page.keyboard.press("g")
    page.keyboard.press("q")
    page.wait_for_url("**/queues/engineering/")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    panel = page.locator("#item-panel")
    expect(panel).to_contain_text("Exporting a 20 MB report crashes the app.")
    expect(panel.get_by_role("heading", level=2)).to_be_focused()

    # Take it on: "a"; the item stays open, ready to be answered.
    page.keyboard.press("a")
    expect(page.locator(".message-success")).to_contain_text("taken on")
    item.refresh_from_db()
    assert item.status == "acknowledged"

    # Respond: "r", the words, Ctrl+Enter.
    page.keyboard.press("r")
    response = panel.get_by_label(f"Response on {bug.reference}")
    expect(response).to_be_focused()
    page.keyboard.type("Reproduced; the fix ships in 2.4.1.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".message-success")).to_contain_text("Response recorded")

    # Done: "d".
    page.keyboard.press("d")
    expect(page.locator(".message-success")).to_contain_text("marked done")
    item.refresh_from_db()
    assert item.status == "done"
    assert item.responses == 1
    screenshot(page, "keyboard-walk-engineer-done")
    assert pointer_events(page) == 0
