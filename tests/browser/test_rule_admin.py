"""The admins' rule editor and list in headless Chromium: labels instead of codes, errors that
stay until fixed, confirmations before replacing or losing work, moves that are confirmed and
audited, a dry run over a chosen range, and long import errors that wrap."""

import json
import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from routing.interchange import rules_export
from routing.models import Rule, RuleAuditEntry
from routing.services import rule_create, rule_update
from tests.browser.conftest import WIDTHS, log_in, screenshot
from tests.factories import CustomerFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-for-tests-only"

BUGS = {
    "name": "Low-priority bugs to engineering",
    "trigger": "ticket.created",
    "conditions": {
        "all": [
            {"field": "kind", "operator": "is", "value": "bug"},
            {"field": "priority", "operator": "in", "value": ["low", "normal"]},
        ]
    },
    "actions": [
        {"type": "notify_department", "department": "engineering"},
        {"type": "set_priority", "priority": "high"},
    ],
}


@pytest.fixture
def admin(db):
    return UserFactory(username="ada", is_staff=True, is_superuser=True)


def assert_no_sideways_scroll(page):
    size = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow}px wider than the {width}px window"
    page.set_viewport_size(size)


def first_condition(page):
    return page.locator("#conditions-all .row.condition").first


def test_pickers_summaries_and_dry_run_read_labels(page, admin):
    seller = UserFactory(username="sam", first_name="Sam", last_name="Seller")
    customer = CustomerFactory(name="Fjord", salesperson=seller)
    ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash", priority="low")
    ticket_create(customer=customer, kind="bug", channel="web", subject="Typo", priority="high")
    rule = rule_create(**BUGS)
    log_in(page, "ada", PASSWORD)
    page.goto(f"/rules/{rule.pk}/")
    value = first_condition(page).get_by_label("Value", exact=True)
    # Shown by its label, stored by its code.
    expect(value.locator("option:checked")).to_have_text("Bug report")
    assert value.input_value() == "bug"
    values = page.locator("#conditions-all .row.condition").nth(1).get_by_label("Values")
    chosen = values.locator("option:checked")
    expect(chosen).to_have_text(["Low", "Normal"])
    priority = page.locator("#actions .row.action").nth(1).get_by_label("Priority", exact=True)
    expect(priority.locator("option:checked")).to_have_text("High")

    page.locator("#preview-count").filter(has_text="Would match 1 of 2 tickets").wait_for()
    actions = page.locator("#preview-actions")
    expect(actions).to_contain_text("Notify Engineering: 1 ticket")
    expect(actions).to_contain_text("Set priority to High: 1 ticket")
    match = page.locator("#preview-matches > li").first
    expect(match).to_contain_text("Crash")
    expect(match.locator(".effects")).to_contain_text("Priority Low → High")
    assert "low" not in page.locator("#preview").inner_text().replace("Low", "")
    screenshot(page, "rule-editor-labels")


def test_dry_run_over_a_chosen_range(page, admin, customer):
    old = ticket_create(customer=customer, kind="bug", channel="phone", subject="Last month")
    ticket_create(customer=customer, kind="bug", channel="phone", subject="Today")
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    rule = rule_create(**BUGS)
    log_in(page, "ada", PASSWORD)
    page.goto(f"/rules/{rule.pk}/")
    count = page.locator("#preview-count")
    count.filter(has_text="Would match 2 of 2 tickets").wait_for()
    page.get_by_label("How many of the newest (at most 20,000)").fill("1")
    count.filter(has_text="Would match 1 of 1 tickets").wait_for()
    expect(page.locator("#preview-scope-text")).to_have_text("Tried on the last 1 tickets.")
    page.get_by_label("Try it on").select_option("range")
    day = timezone.localdate() - timedelta(days=30)
    page.get_by_label("From", exact=True).fill(str(day - timedelta(days=1)))
    page.get_by_label("To (inclusive)").fill(str(day + timedelta(days=1)))
    count.filter(has_text="Would match 1 of 1 tickets").wait_for()
    expect(page.locator("#preview-matches")).to_contain_text("Last month")
    expect(page.locator("#preview-scope-text")).to_contain_text("tickets created from")
    # Choosing the range is not an edit of the rule: leaving asks nothing.
    page.get_by_role("link", name="All rules").click()
    page.wait_for_url("**/rules/")


def test_dry_run_lists_every_match_the_server_sends(page, admin, customer, monkeypatch):
    from routing import preview

    monkeypatch.setattr(preview, "SHOWN", 30)
    for n in range(32):
        ticket_create(customer=customer, kind="bug", channel="phone", subject=f"Crash {n}")
    rule = rule_create(**BUGS)
    log_in(page, "ada", PASSWORD)
    page.goto(f"/rules/{rule.pk}/")
    page.locator("#preview-count").filter(has_text="Would match 32 of 32 tickets").wait_for()
    matches = page.locator("#preview-matches > li")
    expect(matches).to_have_count(31)
    expect(matches.first).to_contain_text("Crash 31")
    expect(matches.nth(29)).to_contain_text("Crash 2")
    expect(matches.last).to_have_text("and 2 more")
    screenshot(page, "rule-editor-many-matches")
    assert_no_sideways_scroll(page)


def test_a_save_error_stays_until_its_field_changes(page, admin):
    rule = rule_create(**BUGS)
    log_in(page, "ada", PASSWORD)
    page.goto(f"/rules/{rule.pk}/")
    page.locator("#preview-count").filter(has_text="Would match").wait_for()
    name = page.get_by_label("Name", exact=True)
    name.fill("")
    page.get_by_role("button", name="Save rule").click()
    error = page.locator("[data-error-for=name]")
    expect(error).to_have_text("This field may not be blank.")
    status = page.locator("#form-status")
    expect(status).to_have_text("Not saved: fix the errors shown.")
    expect(status).to_have_attribute("role", "alert")
    expect(status).to_have_class("status-line message-error")
    # Leaving the field reruns the dry run; its success must not wipe the save's errors.
    name.focus()
    page.get_by_label("Description").focus()
    page.locator("#preview-count").filter(has_text="Would match").wait_for()
    time.sleep(0.8)
    expect(error).to_have_text("This field may not be blank.")
    expect(name).to_have_attribute("aria-invalid", "true")
    screenshot(page, "rule-editor-save-error")
    assert_no_sideways_scroll(page)
    name.fill("Bugs, renamed")
    expect(error).to_have_text("")
    expect(status).not_to_have_class(re.compile("message-error"))
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url(f"**/rules/{rule.pk}/?saved=2")
    expect(status).to_have_text("Saved as version 2.")
    expect(status).to_have_attribute("role", "status")


def test_restore_asks_first(page, admin):
    rule = rule_create(**BUGS)
    rule_update(rule=rule, author=admin, description="Only crashes")
    log_in(page, "ada", PASSWORD)
    page.goto(f"/rules/{rule.pk}/")
    asked = []

    def dismiss(dialog):
        asked.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.locator("#history").get_by_role("button", name="Restore").click()
    time.sleep(0.5)
    [(kind, question)] = asked
    assert kind == "confirm"
    assert "Restore version 1?" in question
    rule.refresh_from_db()
    assert rule.version == 2

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#history").get_by_role("button", name="Restore").click()
    page.wait_for_url(f"**/rules/{rule.pk}/?saved=3")
    rule.refresh_from_db()
    assert (rule.version, rule.description) == (3, "")


def test_leaving_with_unsaved_changes_asks_first(page, admin):
    rule = rule_create(**BUGS)
    log_in(page, "ada", PASSWORD)
    page.goto(f"/rules/{rule.pk}/")
    page.get_by_label("Description").fill("Half typed")
    asked = []

    def stay(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("link", name="All rules").click()
    time.sleep(0.8)
    assert asked == ["beforeunload"]
    assert page.url.endswith(f"/rules/{rule.pk}/")
    assert page.get_by_label("Description").input_value() == "Half typed"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="All rules").click()
    page.wait_for_url("**/rules/")


def test_moving_a_rule_says_so_and_is_audited_not_versioned(page, admin, starter_rules):
    first, second = starter_rules[0], starter_rules[1]
    log_in(page, "ada", PASSWORD)
    page.goto("/rules/")
    page.get_by_role("button", name=f"Move {second.name} up").click()
    status = page.locator("#list-status")
    expect(status).to_have_text(f"Moved {second.name} up to position 1.")
    expect(status).to_have_class("status-line message-success")
    rows = page.locator("#rules tbody tr")
    expect(rows.first).to_contain_text(second.name)
    expect(rows.first.locator("td").first).to_have_text("1")
    expect(page.get_by_role("button", name=f"Move {second.name} up")).to_be_disabled()
    expect(page.get_by_role("button", name=f"Move {first.name} up")).to_be_enabled()
    assert Rule.objects.order_by("order").first() == second
    assert set(Rule.objects.values_list("version", flat=True)) == {1}
    assert RuleAuditEntry.objects.filter(action="reordered", author=admin).count() == 2

    page.get_by_label(f"Active: {first.name}").uncheck()
    expect(status).to_have_text(f"{first.name} is now inactive.")
    page.reload()
    audit = page.locator("#audit")
    expect(audit).to_contain_text(f"Switched off: {first.name}")
    expect(audit).to_contain_text(f"Moved: {second.name} · Position 2 → 1")
    expect(audit).to_contain_text("by ada")
    screenshot(page, "rule-list-audit")
    page.goto(f"/rules/{second.pk}/")
    expect(page.locator("#rule-audit")).to_contain_text("Moved · Position 2 → 1")
    expect(page.locator("#history")).not_to_contain_text("Reordered")


def import_file(page, data, name="rules.json"):
    page.set_input_files(
        "#import-file",
        files=[{"name": name, "mimeType": "application/json", "buffer": json.dumps(data).encode()}],
    )


def test_import_asks_first_and_its_outcome_stays_visible(page, admin, starter_rules):
    log_in(page, "ada", PASSWORD)
    exported = rules_export()
    # An earlier import, moments ago: its outcome is not this import's, and the list's address
    # alone shows no outcome at all.
    RuleAuditEntry.objects.create(
        action="imported", author=admin, detail="7 created, 0 updated, 0 archived"
    )
    page.goto("/rules/?imported=1")
    rules = len(starter_rules)
    expect(page.locator("#rules tbody tr")).to_have_count(rules)
    expect(page.locator(".messages")).to_have_count(0)
    page.goto("/rules/")
    import_file(page, {**exported, "rules": exported["rules"][1:]})
    asked = []

    def cancel(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", cancel)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-result")).to_have_text("Import cancelled: nothing was changed.")
    expect(page.locator("#import-result")).to_have_class("import-result status-line message-info")
    assert asked == [
        f"Replace all {rules} current rules with the {rules - 1} in rules.json? Rules not in "
        "the file are archived."
    ]
    assert Rule.objects.filter(archived_at__isnull=True).count() == rules

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Import", exact=True).click()
    message = page.locator(".messages .message-success")
    expect(message).to_have_text("Done: Rule set imported (0 created, 0 updated, 1 archived).")
    time.sleep(1.5)  # the page does not reload the message away
    expect(message).to_be_visible()
    assert "imported" not in page.url
    expect(page.locator("#rules tbody tr")).to_have_count(rules - 1)
    expect(page.locator("#audit")).to_contain_text("Imported: the whole rule set")
    screenshot(page, "rule-list-imported")
    # The message was for that reload only.
    page.reload()
    expect(page.locator("#rules tbody tr")).to_have_count(rules - 1)
    expect(page.locator(".messages")).to_have_count(0)


def test_a_long_import_error_wraps_instead_of_widening_the_page(page, admin, starter_rules):
    log_in(page, "ada", PASSWORD)
    page.goto("/rules/")
    long_key = "unexpected_" + "x" * 300
    bad = {"format": "switchboard.rules", "version": 1, "rules": [{**BUGS, long_key: 1}]}
    import_file(page, bad)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Import", exact=True).click()
    result = page.locator("#import-result")
    expect(result).to_contain_text("Nothing was changed. Errors:")
    expect(result).to_have_attribute("role", "alert")
    assert_no_sideways_scroll(page)
    screenshot(page, "rule-list-import-error")


def test_why_page_reads_labels(page, admin, customer):
    from tests.conftest import dispatch_pending

    rule_create(**BUGS)
    ticket = ticket_create(
        customer=customer, kind="bug", channel="phone", subject="Crash", priority="low"
    )
    dispatch_pending()
    log_in(page, "ada", PASSWORD)
    page.goto(f"/tickets/{ticket.pk}/why/")
    fired = page.locator(".rule-eval.matched")
    expect(fired).to_contain_text("Kind is Bug report — actual value: Bug report")
    expect(fired).to_contain_text("Priority is one of Low, Normal — actual value: Low")
    expect(fired).to_contain_text("Priority set to High")
    assert_no_sideways_scroll(page)
    screenshot(page, "ticket-why-labels")
