"""End to end in headless Chromium: an admin builds a rule, previews it, saves it, and a new
ticket is routed by it through the real worker, with the explanation on the ticket."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from queues.models import FollowUpTask, Notification
from routing.models import Rule
from routing.services import rule_update
from tests.browser.conftest import log_in
from tests.conftest import wait_for
from tests.factories import CustomerFactory, UserFactory
from tickets.services import ticket_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

PASSWORD = "pw-for-tests-only"
RULE_NAME = "RFE from a customer whose contract ends soon"


@pytest.fixture
def admin(db):
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


def condition_row(page, group: str, index: int):
    return page.locator(f"#conditions-{group} .row.condition").nth(index)


def action_row(page, index: int):
    return page.locator("#actions .row.action").nth(index)


def test_admin_builds_previews_and_saves_a_rule_that_routes_new_tickets(
    page, admin, live_worker, salesperson
):
    today = timezone.localdate()
    customer = CustomerFactory(
        name="Fjord", salesperson=salesperson, contract_ends_on=today + timedelta(days=12)
    )
    CustomerFactory(name="Later", contract_ends_on=today + timedelta(days=300))
    ticket_create(customer=customer, kind="rfe", channel="phone", subject="Older request")

    log_in(page, "ada", PASSWORD)
    page.goto("/rules/new/")
    page.get_by_label("Name", exact=True).fill(RULE_NAME)
    page.get_by_label("When", exact=True).select_option("ticket.created")

    page.locator(".add-condition[data-group=all]").click()
    row = condition_row(page, "all", 0)
    row.get_by_label("Field", exact=True).select_option("kind")
    row.get_by_label("Operator", exact=True).select_option("is")
    row.get_by_label("Value", exact=True).select_option("rfe")

    page.locator(".add-condition[data-group=all]").click()
    row = condition_row(page, "all", 1)
    row.get_by_label("Field", exact=True).select_option("customer.contract_ends_in_days")
    # The operator picker fits a number field, the value widget is a number input.
    operators = row.get_by_label("Operator", exact=True).locator("option").all_inner_texts()
    assert "is at most" in operators
    assert "contains" not in operators
    row.get_by_label("Operator", exact=True).select_option("lte")
    row.get_by_label("Value", exact=True).fill("30")

    page.get_by_role("button", name="Add action").click()
    row = action_row(page, 0)
    row.get_by_label("Action", exact=True).select_option("notify_department")
    row.get_by_label("Department", exact=True).select_option("marketing")
    row.get_by_label("Message", exact=True).fill(
        "{{ customer.name }} renews soon: {{ ticket.subject }}"
    )

    page.get_by_role("button", name="Add action").click()
    row = action_row(page, 1)
    row.get_by_label("Action", exact=True).select_option("create_followup")
    row.get_by_label("Due in working days", exact=True).fill("2")

    # The live dry run finds the one older RFE from a customer whose contract ends soon.
    preview = page.locator("#preview-count")
    preview.filter(has_text="Would match 1 of 1 tickets").wait_for()
    assert "Older request" in page.locator("#preview-matches").inner_text()
    assert not Rule.objects.exists()

    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url("**/rules/*/?saved=1")
    rule = Rule.objects.get(name=RULE_NAME)
    assert rule.conditions["all"][1] == {
        "field": "customer.contract_ends_in_days",
        "operator": "lte",
        "value": 30,
    }
    assert rule.versions.get().author == admin

    # A new ticket, through the API, is routed by the saved rule in the worker, once.
    client = APIClient()
    client.force_authenticate(admin)
    response = client.post(
        "/api/v1/tickets/",
        {"kind": "rfe", "customer": customer.pk, "subject": "Bulk export"},
        format="json",
    )
    ticket_id = response.json()["id"]
    notification = wait_for(
        lambda: Notification.objects.filter(ticket_id=ticket_id, rule=rule).first()
    )
    assert notification.department.slug == "marketing"
    assert notification.message == "Fjord renews soon: Bulk export"
    wait_for(lambda: FollowUpTask.objects.filter(ticket_id=ticket_id, rule=rule).exists())
    # Fired once, for the new ticket only: the older one was routed before the rule existed.
    assert Notification.objects.filter(rule=rule).count() == 1

    page.goto(f"/tickets/{ticket_id}/")
    page.get_by_role("link", name="Why was this ticket routed as it was?").click()
    fired = page.locator(".rule-eval.matched")
    assert f"Fired: {RULE_NAME}" in fired.inner_text()
    assert "Days until the customer's contract ends is at most 30" in fired.inner_text()
    assert "actual value: 12" in fired.inner_text()
    assert "Notified Marketing" in fired.inner_text()


def test_errors_show_at_their_place_and_keep_the_rule_as_typed(page, admin):
    log_in(page, "ada", PASSWORD)
    page.goto("/rules/new/")
    page.get_by_label("Name", exact=True).fill("Half done")
    page.locator(".add-condition[data-group=any]").click()
    row = condition_row(page, "any", 0)
    row.get_by_label("Field", exact=True).select_option("customer.unpaid_amount")
    row.get_by_label("Operator", exact=True).select_option("gt")
    page.get_by_role("button", name="Save rule").click()
    expect(row.locator(".error")).to_contain_text("value: Must be a number.")
    expect(page.locator("[data-error-for=actions]")).to_contain_text(
        "Must be a non-empty list of actions."
    )
    expect(page.locator("#form-status")).to_have_text("Not saved: fix the errors shown.")
    assert page.get_by_label("Name", exact=True).input_value() == "Half done"
    assert not Rule.objects.exists()


def test_rule_list_toggles_reorders_and_shows_history(page, admin, starter_rules):
    log_in(page, "ada", PASSWORD)
    page.goto("/rules/")
    first, second = starter_rules[0], starter_rules[1]
    page.get_by_label(f"Active: {first.name}").uncheck()
    page.locator("#list-status").filter(has_text="is now inactive").wait_for()
    first.refresh_from_db()
    assert first.is_active is False

    page.get_by_role("button", name=f"Move {second.name} up").click()
    page.wait_for_load_state("load")
    page.locator(f"tr[data-rule-id='{second.pk}'] td").first.filter(has_text="1").wait_for()
    assert Rule.objects.order_by("order").first() == second

    rule_update(rule=first, author=admin, description="Only crashes")
    page.goto(f"/rules/{first.pk}/")
    history = page.locator("#history")
    assert "Version 1" in history.inner_text()
    history.get_by_role("button", name="Compare with current").last.click()
    page.locator("#diff").filter(has_text="description").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())  # restoring asks first
    history.get_by_role("button", name="Restore").last.click()
    page.wait_for_url(f"**/rules/{first.pk}/?saved=*")
    first.refresh_from_db()
    assert first.description == starter_rules[0].description
    # What the rule does comes back; it stays switched off and in its new place.
    assert first.is_active is False
    assert first.versions.first().summary == "Restored version 1"


def test_non_admins_cannot_see_the_editor(client, rep):
    client.force_login(rep)
    assert client.get("/rules/").status_code == 403
    assert client.get("/rules/new/").status_code == 403
