"""The README's demo, walked in headless Chromium as it tells a newcomer to: on `seed_demo`'s
data, rita logs a bug call by keyboard, erin works it in engineering's queue, sam records a
return step, sally records a follow-up outcome. No page may log a JavaScript or console error.
Screenshots of every page on the way are saved at 1440 and 390 px."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from demo.data import DEMO_PASSWORD
from queues.models import FollowUpTask, Notification
from tests.browser.conftest import log_in, screenshot
from tests.conftest import wait_for
from tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TICKET_PAGE = re.compile(r"/tickets/\d+/$")


def all_routed() -> bool:
    return not TicketEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_the_readme_demo_as_rita_erin_sam_and_sally(new_page, live_worker):
    call_command("seed_demo", stdout=StringIO())
    wait_for(all_routed)

    # rita logs a bug call with the keyboard only.
    rita = new_page()
    log_in(rita, "rita", DEMO_PASSWORD)
    screenshot(rita, "demo-home-rita")
    rita.keyboard.press("n")
    rita.wait_for_url("**/tickets/new/")
    rita.keyboard.type("cobalt")
    expect(rita.get_by_role("option", name="Cobalt Labs", exact=True)).to_be_visible()
    rita.keyboard.press("Enter")
    expect(rita.locator("#standing")).to_contain_text("overdue")
    rita.keyboard.press("Tab")  # the contact, already chosen
    rita.keyboard.press("Tab")  # the kind
    rita.keyboard.press("b")
    rita.keyboard.press("Tab")
    rita.keyboard.type("Portal")
    rita.keyboard.press("Tab")  # priority stays normal
    rita.keyboard.press("Tab")
    rita.keyboard.type("Invoices page crashes on save")
    rita.keyboard.press("Tab")
    rita.keyboard.type("Saving an invoice with 40 lines shows a blank page.")
    screenshot(rita, "demo-call-log")
    rita.keyboard.press("Control+Enter")
    rita.wait_for_url(TICKET_PAGE)
    ticket = Ticket.objects.get(subject="Invoices page crashes on save")
    timeline = rita.locator("#timeline")
    expect(timeline).to_contain_text("Notified Engineering", timeout=15_000)
    expect(timeline).to_contain_text("Notified Finance")
    screenshot(rita, "demo-ticket-rita")
    rita.get_by_role("link", name="Tickets", exact=True).click()
    rita.get_by_label("Search").fill("blank page")
    rita.keyboard.press("Enter")
    expect(rita.locator("table.tickets tbody tr")).to_have_count(1)
    expect(rita.locator("table.tickets tbody tr")).to_contain_text(ticket.reference)
    screenshot(rita, "demo-ticket-search")
    rita.goto(f"/tickets/{ticket.pk}/")

    # erin takes it on in engineering's queue, answers it and finishes it.
    erin = new_page()
    log_in(erin, "erin", DEMO_PASSWORD)
    expect(erin.locator("#nav-new-items")).not_to_have_text("0 new items")
    erin.get_by_role("link", name=re.compile("^Queues")).click()
    if "/queues/engineering/" not in erin.url:
        erin.get_by_role("link", name=re.compile("Engineering")).first.click()
    erin.wait_for_url("**/queues/engineering/**")
    item = Notification.objects.get(ticket=ticket, department__slug="engineering")
    row = erin.locator(f"#item-{item.pk}")
    expect(row).to_contain_text("Invoices page crashes on save")
    screenshot(erin, "demo-queue-erin")
    row.get_by_role("link", name=ticket.reference).click()
    panel = erin.locator("#item-panel")
    expect(panel).to_contain_text("Invoices page crashes on save")
    panel.get_by_role("button", name="Take it on").click()
    expect(erin.locator(".messages")).to_contain_text(ticket.reference)
    panel.get_by_label(f"Response on {ticket.reference}").fill("Fixed in 2.4.1, out on Friday.")
    panel.get_by_label("Done with it").check()
    panel.get_by_role("button", name="Send response").click()
    expect(erin.locator(".messages")).to_contain_text(f"Response recorded on {ticket.reference}")
    screenshot(erin, "demo-queue-erin-answered")
    item.refresh_from_db()
    assert item.status == "done"
    # rita's open ticket page shows the answer without a reload.
    expect(timeline).to_contain_text("Fixed in 2.4.1, out on Friday.", timeout=15_000)

    # sam records that Birch's damaged scanner came back, with the carrier's tracking number.
    sam = new_page()
    log_in(sam, "sam", DEMO_PASSWORD)
    rma = Ticket.objects.get(kind="rma")
    shipping_item = Notification.objects.get(ticket=rma, department__slug="shipping")
    sam.goto(f"/queue-items/{shipping_item.pk}/")
    row = sam.locator("#item-panel")
    expect(row).to_contain_text("Scanner arrived damaged")
    row.get_by_label("Carrier").fill("UPS")
    row.get_by_label("Tracking number").fill("1Z999AA10123456784")
    row.get_by_role("button", name="Record step").click()
    expect(sam.locator(".messages .message-success")).to_be_visible()
    screenshot(sam, "demo-queue-sam")
    rma.refresh_from_db()
    assert rma.rma_status == "authorised"  # the picker offered the first step
    # The ticket page says where the return is, for the rep who takes the customer's next call.
    sam.goto(f"/tickets/{rma.pk}/")
    expect(sam.locator("body")).to_contain_text("Authorised")
    expect(sam.locator("body")).to_contain_text("UPS 1Z999AA10123456784")
    screenshot(sam, "demo-ticket-rma")

    # sally hears that Acme's fixed bug left the customer satisfied.
    sally = new_page()
    log_in(sally, "sally", DEMO_PASSWORD)
    sally.get_by_role("link", name=re.compile("^Follow-ups")).click()
    task = FollowUpTask.objects.get(ticket__customer__name__startswith="Acme")
    card = sally.locator(f"#followup-{task.pk}")
    expect(card).to_contain_text("Export to CSV stops at 1,000 rows")
    screenshot(sally, "demo-followups-sally")
    card.get_by_label("Reached and satisfied").check()
    card.get_by_role("button", name="Record outcome").click()
    expect(sally.locator(".messages")).to_contain_text(
        f"Outcome recorded on {task.ticket.reference}"
    )
    task.refresh_from_db()
    assert task.outcome == "satisfied"


def test_the_readme_customer_side_as_alice_and_sally(new_page, live_worker, live_server, settings):
    """The README's customer side, on seed_demo's data and the addresses it prints."""
    settings.SITE_URL = live_server.url
    settings.ALTCHA_MAX_NUMBER = 20_000
    printed = StringIO()
    call_command("seed_demo", stdout=printed)
    wait_for(all_routed)
    shown = dict(re.findall(r"^  (.+?): (http\S+)$", printed.getvalue(), re.M))
    assert shown["Request form"] == f"{live_server.url}/support/"

    alice = new_page()
    alice.goto(shown["Request form"])
    alice.get_by_label("Your name").fill("Alice Archer")
    alice.get_by_label("Your email address").fill("alice@acme.example")
    alice.get_by_label("A question").check()
    alice.get_by_label("Subject").fill("Can we add a third warehouse?")
    alice.get_by_label("Tell us more").fill("We open a site in Lyon next month.")
    expect(alice.locator(".altcha")).to_have_attribute("data-state", "verified", timeout=20_000)
    alice.get_by_role("button", name="Send request").click()
    asked = Ticket.objects.get(subject="Can we add a third warehouse?")
    expect(alice.locator(".reference")).to_have_text(asked.reference)

    alice.goto(shown["Alice Archer's requests"])
    expect(alice.get_by_role("link", name=f"{asked.reference} Can we add")).to_be_visible()
    expect(alice.get_by_text("Export to CSV stops at 1,000 rows")).to_be_visible()
    screenshot(alice, "demo-portal-requests")

    [survey_link] = [url for what, url in shown.items() if what.startswith("Alice Archer's survey")]
    alice.goto(survey_link)
    alice.get_by_label("4", exact=True).check()
    alice.get_by_label("What is the main reason for your score?").fill("The fix took two weeks")
    alice.get_by_role("button", name="Send").click()
    expect(alice.get_by_role("status")).to_contain_text("Thank you for your answer")

    sally = new_page()
    log_in(sally, "sally", DEMO_PASSWORD)
    sally.goto("/followups/")
    card = sally.locator(".followup", has_text="Detractor, 4/10: The fix took two weeks")
    expect(card).to_be_visible(timeout=15_000)
    acme = card.get_by_role("link", name="Acme Manufacturing").get_attribute("href")
    card.get_by_label("Reached and satisfied").check()
    card.get_by_role("button", name="Record outcome").click()
    expect(sally.locator(".messages")).to_be_visible()
    sally.goto(acme)
    expect(sally.locator("#surveys")).to_contain_text("Reached and satisfied")
    expect(sally.locator(".nps")).to_contain_text("NPS -100 ± 0, 1 answer")
    screenshot(sally, "demo-customer-page")
