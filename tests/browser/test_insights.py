"""The reports in headless Chromium: a rep changes the filters and downloads the CSV, and every
report opens from the report navigation and fits a phone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.factories import CustomerFactory
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = [pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-tests-only"


def _resolved(customer, cause, kind, days_ago):
    ticket = ticket_create(customer=customer, kind=kind, channel="phone", subject=cause)
    resolved = timezone.now() - timedelta(days=days_ago)
    Ticket.objects.filter(pk=ticket.pk).update(
        status="resolved",
        root_cause=cause,
        resolution="Fixed",
        created_at=resolved - timedelta(hours=30),
        resolved_at=resolved,
    )


def test_a_rep_filters_the_root_causes_and_downloads_them(page, rep):
    acme = CustomerFactory(name="Acme")
    for days in (1, 2, 3):
        _resolved(acme, "product_defect", "bug", days)
    _resolved(acme, "documentation", "call", 4)
    log_in(page, "rep", PASSWORD)
    page.get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="4 tickets resolved")).to_be_visible()
    rows = page.locator("table.report tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Product defect")
    screenshot(page, "insights-root-causes")
    page.get_by_label("Kind").select_option("call")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"kind=call"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Documentation")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert lines[1].startswith("Documentation,Marketing,1,100.0")
    page.get_by_role("link", name="Documentation").click()
    expect(page.get_by_role("heading", name="Documentation")).to_be_visible()
    expect(page.locator("table.list tbody tr")).to_have_count(1)


def test_time_to_fix_is_one_click_from_root_causes(page, rep):
    _resolved(CustomerFactory(name="Acme"), "product_defect", "bug", 1)
    log_in(page, "rep", PASSWORD)
    page.goto("/insights/root-causes/")
    page.get_by_role("link", name="Time to fix").click()
    expect(page.get_by_role("heading", name="1 ticket resolved")).to_be_visible()
    page.get_by_label("By").select_option("root_cause")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.report tbody tr")).to_have_count(1)
    expect(page.locator("table.report tbody tr").first).to_contain_text("Product defect")
    expect(page.locator("table.report tbody tr").first).to_contain_text("30.0 / 30.0")
    screenshot(page, "insights-time-to-fix")


@pytest.mark.parametrize(
    ("link", "heading", "name"),
    [
        ("Backlog and flow", "Backlog and flow", "insights-flow"),
        ("Market research", "Market research", "insights-market"),
        ("Money and shipping", "Money and shipping", "insights-money"),
        ("Sales and satisfaction", "Sales and satisfaction", "insights-sales"),
    ],
)
def test_every_report_opens_from_the_report_navigation_and_fits_a_phone(
    page, rep, link, heading, name
):
    acme = CustomerFactory(name="Acme")
    _resolved(acme, "product_defect", "bug", 1)
    _resolved(acme, "documentation", "rfe", 2)
    log_in(page, "rep", PASSWORD)
    page.goto("/insights/root-causes/")
    page.get_by_role("navigation", name="Reports").get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.locator("a[aria-current=page]")).to_have_text(link)
    screenshot(page, name)
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{link}: {overflow}px wider than the phone"
