"""axe-core (from npm, package-lock.json) over the main staff pages, for each role of the demo
(a rep, a department member, a salesperson, an admin), at 1440 and 390 px, in the light and the
dark theme: no serious or critical violation. Screenshots of each page at both widths and in
both themes are saved as the pages are checked."""

import json
import os
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.portal_links import portal_url
from conversations.models import InboundMessage
from demo.data import DEMO_PASSWORD
from queues.models import FollowUpTask, Notification
from tests.browser.conftest import SCREENSHOTS, WIDTHS, log_in
from tests.conftest import wait_for
from tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The rule sets of WCAG 2.1 A and AA, and axe's best practices (landmarks, headings, skip link).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SERIOUS = {"serious", "critical"}
# The pages docs/design.md shows. To refresh them after a page changes:
#     DOCS_SCREENSHOTS=1 ./scripts/test tests/browser/test_accessibility.py
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DOCS_PAGES = [
    "home-rep",
    "ticket-list",
    "call-log",
    "ticket",
    "queue-item",
    "followups",
    "insights",
]


def _violations(page) -> list[dict]:
    if not AXE.exists():
        pytest.fail("axe-core is not installed: scripts/test runs npm ci")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations",
        TAGS,
    )
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "where": [node["target"] for node in violation["nodes"][:5]],
        }
        for violation in found
        if violation["impact"] in SERIOUS
    ]


def _check(page, name: str, problems: list[str]) -> None:
    """Check the page open in ``page`` at each width and in each theme; save screenshots (and,
    with DOCS_SCREENSHOTS=1, the light theme's of the main pages into docs/screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    to_docs = os.environ.get("DOCS_SCREENSHOTS") == "1" and name in DOCS_PAGES
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.reload()
            for violation in _violations(page):
                problems.append(f"{name} at {width} px, {scheme}: {json.dumps(violation)}")
            suffix = "" if scheme == "light" else "-dark"
            path = SCREENSHOTS / f"a11y-{name}-{width}{suffix}.png"
            page.screenshot(path=str(path), full_page=True)
            if to_docs and scheme == "light":
                DOCS_SCREENSHOTS.mkdir(exist_ok=True)
                shutil.copyfile(path, DOCS_SCREENSHOTS / f"{name}-{width}.png")
    page.emulate_media(color_scheme="light")


def _all_routed() -> bool:
    return not TicketEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_every_main_page_for_every_role_passes_axe(new_page, live_worker):
    call_command("seed_demo", stdout=StringIO())
    wait_for(_all_routed)
    ticket = Ticket.objects.filter(kind="bug").order_by("pk").first()
    rma = Ticket.objects.get(kind="rma")
    item = Notification.objects.filter(department__slug="engineering").order_by("pk").first()
    task = FollowUpTask.objects.order_by("pk").first()
    assert ticket is not None
    assert item is not None
    assert task is not None
    inbound = InboundMessage.objects.order_by("pk").first()
    assert inbound is not None
    walks = {
        "rita": [
            ("home-rep", "/"),
            ("ticket-list", "/tickets/"),
            ("call-log", "/tickets/new/"),
            ("ticket", f"/tickets/{ticket.pk}/"),
            ("ticket-rma", f"/tickets/{rma.pk}/"),
            ("ticket-why", f"/tickets/{ticket.pk}/why/"),
            ("ticket-who-was-told", f"/tickets/{ticket.pk}/queues/"),
            ("customer", f"/customers/{ticket.customer_id}/"),
            ("mail", "/mail/"),
            ("mail-message", f"/mail/{inbound.pk}/"),
            ("insights", "/insights/root-causes/"),
            ("insights-time-to-fix", "/insights/time-to-fix/"),
            ("insights-flow", "/insights/flow/"),
            ("insights-market", "/insights/market/"),
            ("insights-money", "/insights/money/"),
            ("insights-sales", "/insights/sales/"),
        ],
        "erin": [
            ("home-department", "/"),
            ("queue", "/queues/engineering/"),
            ("queue-item", f"/queue-items/{item.pk}/"),
            ("queue-acknowledged-mine", "/queues/engineering/?status=acknowledged&taken=mine"),
        ],
        "sally": [("home-sales", "/"), ("followups", "/followups/")],
        "admin": [("home-admin", "/"), ("rules", "/rules/"), ("rule-editor", "/rules/new/")],
    }
    problems: list[str] = []
    for username, pages in walks.items():
        page = new_page(bypass_csp=True)
        log_in(page, username, DEMO_PASSWORD)
        for name, url in pages:
            page.goto(url)
            _check(page, name, problems)
    # Signed out: the login page and the customers' portal.
    visitor = new_page(bypass_csp=True)
    contact = ticket.contact
    assert contact is not None
    for name, url in [
        ("login", "/login/"),
        ("portal-request", "/support/"),
        ("portal-link", "/support/link/"),
        ("portal-requests", portal_url(contact).removeprefix(settings.SITE_URL.rstrip("/"))),
        (
            "portal-ticket",
            portal_url(contact, ticket_id=ticket.pk).removeprefix(settings.SITE_URL.rstrip("/")),
        ),
    ]:
        visitor.goto(url)
        _check(visitor, name, problems)
    assert not problems, "\n".join(problems)
