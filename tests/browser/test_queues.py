"""End to end in headless Chromium: a bug routed to engineering appears in the engineering
queue, an engineer takes it on and responds, and the rep sees the response on the ticket; a
salesperson records an up-sell on a follow-up."""

import pytest
from playwright.sync_api import expect

from accounts.models import Department, Membership
from routing.models import FollowUpTask, Notification
from routing.services import rule_create
from tests.browser.conftest import log_in
from tests.conftest import dispatch_pending
from tests.factories import CustomerFactory, UserFactory
from tickets.services import ticket_create, ticket_update

pytestmark = [pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"


def member(username, slug, **extra):
    user = UserFactory(username=username, **extra)
    Membership.objects.create(user=user, department=Department.objects.get(slug=slug))
    return user


def test_engineer_works_a_routed_bug_and_the_rep_sees_the_answer(browser, live_server, settings,
                                                                  starter_rules):  # fmt: skip
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    rep = member("rita", "support")
    member("erin", "engineering", first_name="Erin", last_name="Engineer")
    customer = CustomerFactory(name="Acme")
    ticket = ticket_create(
        customer=customer, kind="bug", channel="phone", subject="Export crashes", created_by=rep
    )
    dispatch_pending()

    rep_page = browser.new_context(base_url=live_server.url).new_page()
    log_in(rep_page, "rita", PASSWORD)
    rep_page.goto(f"/tickets/{ticket.pk}/")
    rep_page.evaluate("window.stillHere = true")

    engineer = browser.new_context(base_url=live_server.url).new_page()
    log_in(engineer, "erin", PASSWORD)
    expect(engineer.locator("#nav-new-items")).to_have_text("1")
    # Another bug is logged meanwhile: the count refreshes in place, without a reload.
    engineer.evaluate("window.stillHere = true")
    ticket_create(customer=customer, kind="bug", channel="web", subject="Second bug")
    dispatch_pending()
    engineer.evaluate("window.switchboardNav.refresh()")
    expect(engineer.locator("#nav-new-items")).to_have_text("2")
    assert engineer.evaluate("window.stillHere") is True
    engineer.get_by_role("link", name="Queues").click()
    engineer.wait_for_url("**/queues/engineering/")
    first = Notification.objects.get(department__slug="engineering", ticket=ticket)
    row = engineer.locator(f"#item-{first.pk}")
    expect(row).to_contain_text("Export crashes")
    expect(row).to_contain_text("Bugs go to engineering")
    row.get_by_role("button", name="Take it on").click()
    engineer.wait_for_load_state("load")
    engineer.get_by_role("link", name="Acknowledged").click()
    row = engineer.locator(".queue-item").first
    expect(row).to_contain_text("Taken on by Erin Engineer")
    row.get_by_label(f"Response on {ticket.reference}").fill("Fixed in 2.4.1, shipping Friday.")
    row.get_by_label("Done with it").check()
    row.get_by_role("button", name="Send response").click()
    expect(engineer.locator(".messages")).to_contain_text(
        f"Response recorded on {ticket.reference}"
    )
    first.refresh_from_db()
    assert first.status == "done"

    # The rep's page shows the answer without a reload.
    expect(rep_page.locator("#timeline")).to_contain_text(
        "Fixed in 2.4.1, shipping Friday.", timeout=15_000
    )
    expect(rep_page.locator("#timeline")).to_contain_text("Department response")
    assert rep_page.evaluate("window.stillHere") is True


def test_salesperson_records_an_upsell(browser, live_server, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    seller = member("sally", "sales")
    rep = member("rita", "support")
    customer = CustomerFactory(name="Birch", salesperson=seller)
    rule_create(
        name="Follow up resolved bugs",
        trigger="ticket.status_changed",
        conditions={"all": [{"field": "status", "operator": "changed_to", "value": "resolved"}]},
        actions=[{"type": "create_followup", "due_in_working_days": 0, "reason": "Satisfied?"}],
    )
    ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject="Slow export")
    ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="usability", resolution="Tuned"
    )
    dispatch_pending()
    task = FollowUpTask.objects.get()

    page = browser.new_context(base_url=live_server.url).new_page()
    log_in(page, "sally", PASSWORD)
    page.get_by_role("link", name="Follow-ups").click()
    card = page.locator(f"#followup-{task.pk}")
    expect(card).to_contain_text("Slow export")
    expect(card).to_contain_text("All invoices paid")
    card.get_by_label("Up-sell opportunity").check()
    card.get_by_label("Notes (the reason, or the opportunity)").fill("Wants the analytics add-on")
    card.get_by_label("Estimated value (up-sell)").fill("4800")
    card.get_by_role("button", name="Record outcome").click()
    expect(page.locator(".messages")).to_contain_text(f"Outcome recorded on {ticket.reference}")
    task.refresh_from_db()
    assert (task.outcome, str(task.upsell_value)) == ("upsell", "4800.00")
    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.locator("#timeline")).to_contain_text("Wants the analytics add-on")
    expect(page.locator("#timeline")).to_contain_text("Estimated value: 4800.00")
