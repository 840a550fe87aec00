"""End to end in headless Chromium: a bug routed to engineering appears in the engineering
queue, an engineer takes it on and responds, and the rep sees the response on the ticket; a
salesperson records an up-sell on a follow-up."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Department, Membership
from queues.models import FollowUpTask, Notification
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

    settings.NAV_COUNTS_REFRESH_SECONDS = 1
    engineer = browser.new_context(base_url=live_server.url).new_page()
    log_in(engineer, "erin", PASSWORD)
    expect(engineer.locator("#nav-new-items")).to_have_text("1 new item")
    assert engineer.locator("#main-nav").get_attribute("data-refresh-seconds") == "1"
    # Another bug is logged meanwhile: the page's own timer refreshes the count in place,
    # without a reload and without anyone calling anything.
    engineer.evaluate("window.stillHere = true")
    ticket_create(customer=customer, kind="bug", channel="web", subject="Second bug")
    dispatch_pending()
    expect(engineer.locator("#nav-new-items")).to_have_text("2 new items", timeout=5_000)
    expect(engineer.get_by_role("link", name="Queues 2 new items", exact=True)).to_be_visible()
    assert engineer.evaluate("window.stillHere") is True
    engineer.get_by_role("link", name="Queues").click()
    engineer.wait_for_url("**/queues/engineering/")
    first = Notification.objects.get(department__slug="engineering", ticket=ticket)
    row = engineer.locator(f"#item-{first.pk}")
    expect(row).to_contain_text("Export crashes")
    row.get_by_role("link", name=ticket.reference).click()
    panel = engineer.locator("#item-panel")
    expect(panel).to_contain_text("Bugs go to engineering")
    panel.get_by_role("button", name="Take it on").click()
    expect(engineer.locator(".message-success")).to_have_text(
        f"Done: {ticket.reference} taken on: it is now under Acknowledged."
    )
    engineer.get_by_role("link", name=re.compile("^Acknowledged")).click()
    row = engineer.locator(f"#item-{first.pk}")
    expect(row).to_contain_text("taken by you")
    row.click()
    expect(panel.locator("dl.facts")).to_contain_text("Erin Engineer")
    panel.get_by_label(f"Response on {ticket.reference}").fill("Fixed in 2.4.1, shipping Friday.")
    panel.get_by_label("Done with it").check()
    panel.get_by_role("button", name="Send response").click()
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


def _resolved_bug_with_a_follow_up(seller, rep, subject="Slow export"):
    customer = CustomerFactory(name="Birch", salesperson=seller)
    rule_create(
        name="Follow up resolved bugs",
        trigger="ticket.status_changed",
        conditions={"all": [{"field": "status", "operator": "changed_to", "value": "resolved"}]},
        actions=[{"type": "create_followup", "due_in_working_days": 0, "reason": "Satisfied?"}],
    )
    ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject=subject)
    ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="usability", resolution="Tuned"
    )
    dispatch_pending()
    return ticket, FollowUpTask.objects.get(ticket=ticket)


def test_a_refused_outcome_keeps_what_the_salesperson_chose(page):
    from tests.browser.conftest import screenshot

    seller = member("sally", "sales")
    rep = member("rita", "support")
    ticket, task = _resolved_bug_with_a_follow_up(seller, rep)
    log_in(page, "sally", PASSWORD)
    page.goto("/followups/")
    card = page.locator(f"#followup-{task.pk}")
    card.get_by_label("Reached and not satisfied").check()
    card.get_by_label("If not satisfied").select_option("new_ticket")
    again = f"{timezone.localdate() + timedelta(days=30):%Y-%m-%d}"  # within the picker's range
    card.get_by_label("Try again on (no answer)").fill(again)
    card.get_by_role("button", name="Record outcome").click()  # no reason given
    error = page.locator(".message-error")
    expect(error).to_contain_text(f"{ticket.reference}: not recorded. Notes: Say why")
    assert page.url.endswith(f"/followups/#followup-{task.pk}")
    card = page.locator(f"#followup-{task.pk}")
    expect(card.get_by_label("Reached and not satisfied")).to_be_checked()
    expect(card.get_by_label("If not satisfied")).to_have_value("new_ticket")
    expect(card.get_by_label("Try again on (no answer)")).to_have_value(again)
    notes = card.get_by_label("Notes (the reason, or the opportunity)")
    expect(notes).to_have_attribute("aria-invalid", "true")
    expect(card.locator(f"#notes-errors-{task.pk}")).to_have_text(
        "Say why the customer is not satisfied."
    )
    screenshot(page, "followups-refused-outcome")
    notes.fill("Export still slow on big files")
    card.get_by_role("button", name="Record outcome").click()
    expect(page.locator(".message-success")).to_contain_text(
        f"Outcome recorded on {ticket.reference} (Reached and not satisfied)"
    )
    task.refresh_from_db()
    assert task.outcome == "not_satisfied"


def test_shipping_records_return_steps_forward_from_the_picker(page):
    from tests.browser.conftest import screenshot

    member("sam", "shipping")
    customer = CustomerFactory(name="Cedar")
    rule_create(
        name="Returns to shipping",
        trigger="ticket.created",
        conditions={"all": [{"field": "kind", "operator": "is", "value": "rma"}]},
        actions=[{"type": "notify_department", "department": "shipping"}],
    )
    rma = ticket_create(customer=customer, kind="rma", channel="web", subject="Cracked case")
    dispatch_pending()
    item = Notification.objects.get(ticket=rma)
    log_in(page, "sam", PASSWORD)
    page.goto("/queues/shipping/")
    page.locator(f"#item-{item.pk}").click()
    row = page.locator("#item-panel")
    picker = row.get_by_label("Return step")
    for step, label, following in [
        ("authorised", "Authorised", "awaiting_return"),
        ("awaiting_return", "Awaiting return", "received"),
        ("received", "Received", "inspected"),
    ]:
        expect(picker).to_have_value(step)
        row.get_by_role("button", name="Record step").click()
        expect(page.locator(".message-success")).to_contain_text(f"the return is now {label}")
        picker = row.get_by_label("Return step")
        expect(picker).to_have_value(following)
    expect(row.locator('option[value="received"]')).to_be_disabled()
    expect(row.get_by_label("Carrier")).to_have_attribute("maxlength", "40")
    screenshot(page, "queue-shipping-return-steps")


def test_a_lead_sees_escalations_and_ticket_status_and_a_rep_who_was_told(page, starter_rules):
    from datetime import timedelta

    from queues.services import queues_escalate
    from tests.browser.conftest import screenshot

    rep = member("rita", "support")
    lead = member("lea", "engineering", first_name="Lea", last_name="Lead")
    Membership.objects.filter(user=lead).update(is_lead=True)
    customer = CustomerFactory(name="Acme")
    late = ticket_create(customer=customer, kind="bug", channel="phone", subject="Login fails")
    fixed = ticket_create(customer=customer, kind="bug", channel="web", subject="Typo in export")
    dispatch_pending()
    ticket_update(
        ticket=fixed, actor=rep, status="resolved", root_cause="usability", resolution="Fixed"
    )
    dispatch_pending()
    waiting = Notification.objects.get(ticket=late, department__slug="engineering")
    Notification.objects.filter(ticket=fixed).update(due_at=waiting.due_at + timedelta(days=9))
    queues_escalate(now=waiting.due_at + timedelta(minutes=1))

    log_in(page, "lea", PASSWORD)
    expect(page.locator("#nav-escalated")).to_have_text("1 escalated to you")
    page.goto("/queues/engineering/")
    resolved = page.locator(f"#item-{Notification.objects.get(ticket=fixed).pk}")
    expect(resolved.locator(".ticket-done")).to_have_text("Resolved")
    screenshot(page, "queue-engineering-lead")
    page.locator(".tabs").get_by_role("link", name="Escalated").click()
    expect(page.locator("#queue-list tbody tr[data-item]")).to_have_count(1)
    expect(page.locator(f"#item-{waiting.pk}")).to_contain_text("Login fails")
    screenshot(page, "queue-engineering-escalated")
    page.locator(f"#item-{waiting.pk}").get_by_role("button", name="Take on").click()
    expect(page.locator(".message-success")).to_contain_text("it is now under Acknowledged")
    expect(page.locator("#nav-escalated")).to_have_count(0)

    page.context.clear_cookies()
    log_in(page, "rita", PASSWORD)
    page.goto(f"/tickets/{late.pk}/")
    page.get_by_role("link", name="Who was told, and what became of it").click()
    told = page.locator(f"#told-{waiting.pk}")
    expect(told).to_contain_text("Engineering")
    expect(told).to_contain_text("Acknowledged")
    expect(told).to_contain_text("Lea Lead")
    screenshot(page, "ticket-who-was-told")


def test_an_admin_sees_the_same_escalations_on_the_tab_as_in_the_nav(page, starter_rules):
    """Engineering has a lead and finance none: the admin hears of finance's escalation only,
    and a refused filter on the queue page lists nothing but says why."""
    from datetime import timedelta

    from queues.services import queues_escalate
    from tests.browser.conftest import screenshot

    lead = member("lea", "engineering")
    Membership.objects.filter(user=lead).update(is_lead=True)
    UserFactory(username="ada", is_superuser=True, is_staff=True)
    rule_create(
        name="Invoices questioned go to finance",
        trigger="ticket.created",
        conditions={},
        actions=[
            {"type": "notify_department", "department": "finance"},
            {"type": "notify_department", "department": "engineering"},
        ],
    )
    customer = CustomerFactory(name="Acme")
    ticket_create(customer=customer, kind="bug", channel="phone", subject="Invoice twice")
    dispatch_pending()
    for item in Notification.objects.all():
        queues_escalate(now=item.due_at + timedelta(minutes=1))

    log_in(page, "ada", PASSWORD)
    expect(page.locator("#nav-escalated")).to_have_text("1 escalated to you")
    page.goto("/queues/engineering/")
    expect(page.locator(".tabs").get_by_role("link", name="Escalated")).to_have_count(0)
    page.goto("/queues/finance/")
    tab = page.locator(".tabs").get_by_role("link", name="Escalated")
    expect(tab.locator(".badge")).to_have_text("1")
    screenshot(page, "queue-finance-admin-escalated")
    page.get_by_text("Filter", exact=True).click()
    page.get_by_label("Older than (hours)").fill("100000000")  # some 11,000 years
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Older than (hours): Ensure this value is less than or equal to 87600."
    )
    expect(page.locator("#queue-list tbody tr[data-item]")).to_have_count(0)
    expect(page.locator("#queue-list")).to_contain_text(
        "Nothing listed until the filter above is corrected."
    )
    screenshot(page, "queue-finance-refused-filter")


def test_the_nav_badges_come_and_go_with_their_counts_without_a_reload(page, settings):
    """A lead whose page was open before an item went past its target and was escalated sees
    both badges appear, and go once someone takes the item on."""
    from datetime import timedelta

    from django.utils import timezone

    from queues.services import notification_acknowledge, queues_escalate
    from tests.browser.conftest import screenshot

    settings.NAV_COUNTS_REFRESH_SECONDS = 1
    lead = member("lea", "engineering")
    Membership.objects.filter(user=lead).update(is_lead=True)
    rule_create(
        name="Bugs to engineering",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "notify_department", "department": "engineering"}],
    )
    ticket_create(customer=CustomerFactory(), kind="bug", channel="phone", subject="Slow")
    dispatch_pending()
    polls = []
    page.on(
        "request", lambda request: request.resource_type == "fetch" and polls.append(request.url)
    )
    log_in(page, "lea", PASSWORD)
    expect(page.locator("#nav-new-items")).to_have_text("1 new item")
    expect(page.locator("#nav-escalated")).to_have_count(0)
    page.evaluate("window.stillHere = true")

    item = Notification.objects.get()
    item.due_at = timezone.now() - timedelta(minutes=5)
    item.save(update_fields=["due_at"])
    queues_escalate()
    expect(page.locator("#nav-past-target")).to_have_text(
        "1 past their response target", timeout=5_000
    )
    expect(page.locator("#nav-escalated")).to_have_text("1 escalated to you")
    # What the eye sees: the numbers alone, the words clipped away.
    seen = "(el) => el.getBoundingClientRect().width"
    assert page.locator("#nav-escalated .visually-hidden").evaluate(seen) <= 1
    # What a screen reader says of the link: each number with what it counts.
    name = "Queues 1 new item 1 past their response target 1 escalated to you"
    expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    screenshot(page, "nav-escalated-live")

    notification_acknowledge(notification=item, user=lead)
    expect(page.locator("#nav-escalated")).to_have_count(0, timeout=5_000)
    expect(page.locator("#nav-past-target")).to_have_count(0)
    expect(page.get_by_role("link", name="Queues 0 new items", exact=True)).to_be_visible()
    assert page.evaluate("window.stillHere") is True
    # One request per interval refreshes the queues' badges and the mail's together.
    assert polls
    assert {url.split("/", 3)[3] for url in polls} == {"nav/counts/"}
