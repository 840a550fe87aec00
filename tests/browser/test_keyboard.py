"""The keyboard, in headless Chromium: "?" lists every shortcut, "/" searches, "g" then a letter
goes places, "j"/"k" and Enter walk a list, the ticket page's r/i/e/s and the queue's a/d act,
and none of them fires while typing. Also the skip link, the clickable rows and the phone menu."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Department, Membership
from queues.models import Notification
from tests.browser.conftest import log_in, screenshot
from tests.conftest import dispatch_pending
from tests.factories import ContactFactory, UserFactory
from tickets.services import ticket_create

pytestmark = [pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"


@pytest.fixture
def tickets(customer):
    return [
        ticket_create(customer=customer, kind="bug", channel="phone", subject=f"Problem {n}")
        for n in range(3)
    ]


def test_question_mark_lists_the_shortcuts_and_typing_never_triggers_them(page, rep, tickets):
    log_in(page, "rep", PASSWORD)
    page.goto("/tickets/")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Take on the current item")
    screenshot(page, "keyboard-help")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    # Typed into a field, the same keys are just text.
    search = page.get_by_label("Search")
    search.click()
    page.keyboard.type("?/gtjk")
    expect(search).to_have_value("?/gtjk")
    expect(help_dialog).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/tickets/$"))
    # And the help opens by mouse too, from the navigation.
    page.get_by_role("button", name="Shortcuts").click()
    expect(help_dialog).to_be_visible()
    help_dialog.get_by_role("button", name="Close").click()
    expect(help_dialog).to_be_hidden()


def test_slash_searches_and_g_goes_places(page, rep, tickets):
    log_in(page, "rep", PASSWORD)
    page.goto("/")
    page.keyboard.press("/")  # no search on the home page: the ticket list's
    expect(page).to_have_url(re.compile(r"/tickets/#search$"))
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.type("Problem 1")
    page.keyboard.press("Enter")
    expect(page.locator("table.tickets tbody tr")).to_have_count(1)
    page.get_by_role("link", name=tickets[1].reference).focus()
    page.keyboard.press("/")
    expect(page.get_by_label("Search")).to_be_focused()
    page.locator("h1").click()  # out of the field (not on a row: a row's click opens it)
    page.keyboard.press("g")
    page.keyboard.press("h")
    expect(page).to_have_url(re.compile(r"/$"))
    page.keyboard.press("g")
    page.keyboard.press("t")
    expect(page).to_have_url(re.compile(r"/tickets/$"))
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(r"/tickets/new/$"))


def test_j_and_k_walk_the_ticket_list_and_enter_opens_the_row(page, rep, tickets):
    log_in(page, "rep", PASSWORD)
    page.goto("/tickets/")
    newest, middle, oldest = reversed(tickets)
    page.keyboard.press("j")
    expect(page.get_by_role("link", name=newest.reference)).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stays on the last row
    expect(page.get_by_role("link", name=oldest.reference)).to_be_focused()
    page.keyboard.press("k")
    expect(page.get_by_role("link", name=middle.reference)).to_be_focused()
    expect(page.locator("tr.current-row")).to_contain_text(middle.subject)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/tickets/{middle.pk}/$"))
    # A click anywhere on a row opens its ticket, as its link does.
    page.goto("/tickets/")
    page.get_by_role("cell", name=oldest.subject).click()
    expect(page).to_have_url(re.compile(rf"/tickets/{oldest.pk}/$"))


def test_the_ticket_page_keys_reach_the_reply_the_note_the_fields_and_the_status(
    page, rep, customer
):
    ticket = ticket_create(
        customer=customer,
        contact=ContactFactory(customer=customer),
        kind="bug",
        channel="email",
        subject="Mail me back",
    )
    log_in(page, "rep", PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/")
    page.keyboard.press("r")
    expect(page.get_by_label("Reply", exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    page.locator("h1").click()
    page.keyboard.press("i")
    expect(page.locator("[data-shortcut=i] textarea")).to_be_focused()
    page.locator("h1").click()
    page.keyboard.press("s")
    expect(page.get_by_label("Status")).to_be_focused()
    page.locator("h1").click()
    page.keyboard.press("e")
    expect(page.get_by_label("Status")).to_be_focused()  # the first field of the ticket's form


def test_in_a_queue_j_picks_an_item_and_a_takes_it_on_then_d_marks_it_done(
    page, customer, starter_rules
):
    engineer = UserFactory(username="erin")
    Membership.objects.create(user=engineer, department=Department.objects.get(slug="engineering"))
    first = ticket_create(customer=customer, kind="bug", channel="phone", subject="First bug")
    ticket_create(customer=customer, kind="bug", channel="phone", subject="Second bug")
    dispatch_pending()
    item = Notification.objects.get(ticket=first)
    log_in(page, "erin", PASSWORD)
    page.keyboard.press("g")
    page.keyboard.press("q")
    page.wait_for_url(re.compile(r"/queues/"))
    if "/queues/engineering/" not in page.url:
        page.goto("/queues/engineering/")
    page.keyboard.press("j")
    expect(page.locator(f"#item-{item.pk}")).to_have_class(re.compile("current-row"))
    page.keyboard.press("a")
    expect(page.locator(".messages")).to_contain_text(first.reference)
    item.refresh_from_db()
    assert item.status == "acknowledged"
    page.goto("/queues/engineering/?status=acknowledged")
    page.keyboard.press("j")
    page.keyboard.press("d")
    expect(page.locator(".messages")).to_contain_text(first.reference)
    item.refresh_from_db()
    assert item.status == "done"


def test_the_skip_link_and_the_phone_menu(page, rep, tickets):
    log_in(page, "rep", PASSWORD)
    page.goto("/tickets/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.set_viewport_size({"width": 390, "height": 800})
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    nav_tickets = nav.get_by_role("link", name="Tickets", exact=True)
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav_tickets).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav_tickets).to_be_visible()
    screenshot(page, "phone-menu-open")
    menu.click()
    expect(nav_tickets).to_be_hidden()
    page.set_viewport_size({"width": 1440, "height": 900})
    expect(menu).to_be_hidden()
    expect(nav_tickets).to_be_visible()
