"""The queue page in headless Chromium: items open beside the list without a reload, Back
closes them, the list refreshes itself as items arrive without losing what is ticked or typed,
"taken on by" narrows the list, and on a phone the open item comes first."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Department, Membership
from queues.models import Notification
from queues.services import notification_acknowledge
from tests.browser.conftest import log_in, screenshot
from tests.conftest import dispatch_pending
from tests.factories import CustomerFactory, UserFactory
from tickets.services import ticket_create

pytestmark = [pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"


@pytest.fixture
def engineering(starter_rules):
    """erin and ed of engineering, and two bugs routed to them."""
    department = Department.objects.get(slug="engineering")
    people = {}
    for username, first in (("erin", "Erin"), ("ed", "Ed")):
        people[username] = UserFactory(username=username, first_name=first, last_name="Engineer")
        Membership.objects.create(user=people[username], department=department)
    customer = CustomerFactory(name="Acme")
    bugs = [
        ticket_create(
            customer=customer,
            kind="bug",
            channel="phone",
            subject=subject,
            description=description,
            priority=priority,
        )
        for subject, description, priority in (
            ("Export crashes", "Exporting a 20 MB report crashes the app.", "high"),
            ("Login loops", "The login page reloads itself after the password.", "normal"),
        )
    ]
    dispatch_pending()
    items = [Notification.objects.get(ticket=bug, department=department) for bug in bugs]
    return {**people, "customer": customer, "bugs": bugs, "items": items}


def test_an_item_opens_beside_the_list_and_the_list_refreshes_keeping_what_is_typed(
    page, settings, engineering
):
    settings.NAV_COUNTS_REFRESH_SECONDS = 1
    first, second = engineering["items"]
    log_in(page, "erin", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/queues/engineering/")
    panel = page.locator("#item-panel")
    expect(panel).to_contain_text("No item open")
    screenshot(page, "queue-list")
    page.evaluate("window.stillHere = true")

    page.locator(f"#item-{first.pk}").get_by_text("Export crashes").click()
    expect(panel).to_contain_text("Exporting a 20 MB report crashes the app.")
    expect(page).to_have_url(re.compile(rf"\?item={first.pk}$"))
    expect(page).to_have_title(f"{first.ticket.reference} · Engineering queue · Switchboard")
    expect(page.locator(f"#item-{first.pk}")).to_have_attribute("aria-current", "true")
    expect(panel.get_by_role("heading", level=2)).to_be_focused()
    assert page.evaluate("window.stillHere") is True  # opened in place, not by a new page

    # A response is being written and the other item is ticked when a third bug arrives.
    response = panel.get_by_label(f"Response on {first.ticket.reference}")
    response.fill("Reproduced with a 20 MB file, looking at the exporter.")
    page.get_by_label(f"Tick {second.ticket.reference}").check()
    third = ticket_create(
        customer=engineering["customer"], kind="bug", channel="web", subject="Search is slow"
    )
    dispatch_pending()
    arrived = Notification.objects.get(ticket=third, department__slug="engineering")
    expect(page.locator(f"#item-{arrived.pk}")).to_contain_text("Search is slow", timeout=5_000)
    expect(page.locator(f"#item-{arrived.pk}")).to_have_class(re.compile("arrived"))
    expect(page.locator("#queue-news")).to_have_text("1 new item in the list.")
    expect(page.locator("#tab-new .badge")).to_have_text("3")
    expect(response).to_have_value("Reproduced with a 20 MB file, looking at the exporter.")
    expect(page.get_by_label(f"Tick {second.ticket.reference}")).to_be_checked()
    expect(page.locator(f"#item-{first.pk}")).to_have_attribute("aria-current", "true")
    assert page.evaluate("window.stillHere") is True
    screenshot(page, "queue-item-open")

    # Back closes the panel; Forward opens the item again.
    page.go_back()
    expect(panel).to_contain_text("No item open")
    expect(page).to_have_title("Engineering queue · Switchboard")
    page.go_forward()
    expect(panel).to_contain_text("Exporting a 20 MB report crashes the app.")
    assert page.evaluate("window.stillHere") is True

    # Taking it on comes back to the same list with the item open, ready to be answered.
    panel.get_by_role("button", name="Take it on").click()
    expect(page.locator(".message-success")).to_contain_text("taken on")
    expect(panel.get_by_label(f"Response on {first.ticket.reference}")).to_be_visible()
    expect(panel.get_by_role("button", name="Mark done")).to_be_visible()
    expect(page.locator(f"#item-{first.pk}")).to_have_count(0)  # no longer new


def test_taken_on_by_narrows_the_list(page, engineering):
    first, second = engineering["items"]
    notification_acknowledge(notification=first, user=engineering["erin"])
    notification_acknowledge(notification=second, user=engineering["ed"])
    log_in(page, "erin", PASSWORD)
    page.goto("/queues/engineering/?status=acknowledged")
    rows = page.locator("#queue-list tr[data-item]")
    expect(rows).to_have_count(2)
    expect(page.locator(f"#item-{second.pk}")).to_contain_text("taken by Ed Engineer")
    taken = page.get_by_role("navigation", name="Taken on by")
    taken.get_by_role("link", name="Mine").click()
    expect(page).to_have_url(re.compile(r"taken=mine"))
    expect(rows).to_have_count(1)
    expect(page.locator(f"#item-{first.pk}")).to_contain_text("taken by you")
    screenshot(page, "queue-taken-by-me")
    expect(taken.get_by_role("link", name="Mine")).to_have_attribute("aria-current", "true")
    taken.get_by_role("link", name="Taken by anyone").click()
    expect(rows).to_have_count(2)


def test_on_a_phone_the_open_item_comes_first_and_back_returns_to_its_row(new_page, engineering):
    first = engineering["items"][0]
    page = new_page(viewport={"width": 390, "height": 844})
    log_in(page, "erin", PASSWORD)
    page.goto("/queues/engineering/")
    panel = page.locator("#item-panel")
    expect(panel).to_be_hidden()  # nothing open: the list has the screen
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"
    page.locator(f"#item-{first.pk}").get_by_text("Export crashes").click()
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Exporting a 20 MB report crashes the app.")
    list_top = page.locator("#queue-list").bounding_box()["y"]
    assert panel.bounding_box()["y"] < list_top  # the open item above the list
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width} px)"
    page.screenshot(path=str(_artifact("queue-item-open-phone-390.png")), full_page=True)
    panel.get_by_role("link", name="Back to the list").click()
    expect(panel).to_be_hidden()
    expect(page.locator(f"#open-{first.pk}")).to_be_focused()


def _artifact(name: str):
    from tests.browser.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name


def test_an_unchanged_list_is_left_alone_and_keys_act_on_the_row_they_are_meant_for(
    page, settings, engineering
):
    settings.NAV_COUNTS_REFRESH_SECONDS = 1
    first, second = engineering["items"]
    notification_acknowledge(notification=first, user=engineering["erin"])
    log_in(page, "erin", PASSWORD)
    # The first item, taken on, is open; the list shows the new ones (the second).
    page.goto(f"/queues/engineering/?status=new&item={first.pk}")
    panel = page.locator("#item-panel")
    expect(panel.get_by_role("button", name="Mark done")).to_be_visible()

    # Nothing changes: the list is not rebuilt, so the keyboard stays where it was.
    page.keyboard.press("j")  # the second item's row
    page.locator(f"#take-{second.pk}").focus()
    page.evaluate(f"window.row = document.getElementById('item-{second.pk}')")
    page.wait_for_timeout(3_000)  # three refreshes
    assert page.evaluate(f"window.row === document.getElementById('item-{second.pk}')")
    expect(page.locator(f"#take-{second.pk}")).to_be_focused()

    # "d" with another row current does not finish the open item.
    page.keyboard.press("d")
    page.wait_for_timeout(500)
    first.refresh_from_db()
    assert first.status == "acknowledged"

    # A response being typed survives opening another item and coming back to it.
    response = panel.get_by_label(f"Response on {first.ticket.reference}")
    response.fill("Half a thought")
    page.locator(f"#open-{second.pk}").click()
    expect(panel).to_contain_text("The login page reloads itself")
    page.go_back()
    expect(panel.get_by_label(f"Response on {first.ticket.reference}")).to_have_value(
        "Half a thought"
    )


@pytest.mark.parametrize("width", [1280, 1200])
def test_on_a_laptop_every_row_keeps_its_button_in_view_beside_the_open_item(
    page, engineering, width
):
    """With the panel open, the list fits its column: no scrolling sideways to reach a row's
    Take on button."""
    first, second = engineering["items"]
    log_in(page, "erin", PASSWORD)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"/queues/engineering/?item={first.pk}")
    expect(page.locator("#item-panel")).to_contain_text("Exporting a 20 MB report")
    scroll = page.locator("#queue-list .table-scroll")
    widths = scroll.evaluate("element => [element.scrollWidth, element.clientWidth]")
    assert widths[0] <= widths[1], f"the list scrolls sideways at {width} px: {widths}"
    panel_left = page.locator("#item-panel").bounding_box()["x"]
    for item in (first, second):
        button = page.locator(f"#take-{item.pk}").bounding_box()
        assert button["x"] + button["width"] <= panel_left, (item, button, panel_left)
    page.screenshot(path=str(_artifact(f"queue-item-open-{width}.png")), full_page=True)
