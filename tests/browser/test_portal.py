"""End to end in headless Chromium, with a real worker and a real SMTP server: a customer asks
for help on the web form (the page's own script solving the proof of work), follows the request
by the emailed link and replies with a file; the rep sees the reply arrive and resolves; the
survey goes out once its delay has passed; the customer answers 3 with a reason; the salesperson
finds the follow-up and records "not satisfied"; the ticket, the survey and the customer's page
all show it. Then a link scanner opens every link of every email sent, and nothing changes."""

import re
import urllib.request
from datetime import timedelta
from email.message import Message as EmailMessage

import pytest
from django.apps import apps
from playwright.sync_api import expect

from surveys.models import Survey
from surveys.services import surveys_send_due
from tests.browser.conftest import log_in, screenshot
from tests.conftest import wait_for
from tests.factories import ContactFactory, CustomerFactory, UserFactory
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

PASSWORD = "pw-for-tests-only"
LINK = re.compile(r"https?://[^\s\"'<>]+")


@pytest.fixture(autouse=True)
def _small_proof_of_work(settings, tmp_path):
    settings.ALTCHA_MAX_NUMBER = 20_000
    settings.MEDIA_ROOT = str(tmp_path)


def _text(message: EmailMessage) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    for part in parts:
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


def _mail_to(smtp_server, address: str, subject_has: str) -> EmailMessage:
    def found():
        for message in smtp_server.messages:
            if address in message["To"] and subject_has in message["Subject"]:
                return message
        return None

    return wait_for(found, timeout=20)


def _row_counts() -> dict:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_the_customer_journey_closes_the_loop(
    new_page, live_server, live_worker, smtp_server, settings, rep, starter_rules, tmp_path
):
    settings.SITE_URL = live_server.url
    sam = UserFactory(username="sam", first_name="Sam", last_name="Seller")
    sam.set_password(PASSWORD)
    sam.save()
    from accounts.models import Department, Membership

    Membership.objects.create(user=sam, department=Department.objects.get(slug="sales"))
    customer = CustomerFactory(name="Initech", salesperson=sam)
    ContactFactory(customer=customer, name="Peter Gibbons", email="peter@initech.example")

    # The customer asks on the web form; the page's own script does the proof of work.
    peter = new_page()
    peter.goto("/support/")
    screenshot(peter, "portal-request-form")
    peter.get_by_label("Your name").fill("Peter Gibbons")
    peter.get_by_label("Your email address").fill("peter@initech.example")
    peter.get_by_label("Organisation (optional)").fill("Initech")
    peter.get_by_label("Product (optional)").fill("TPS Reports")
    peter.get_by_label("A problem with a product").check()
    peter.get_by_label("Subject").fill("TPS export fails")
    peter.get_by_label("Tell us more").fill("The export stops at 42% every Monday.")
    log_file = tmp_path / "export.log"
    log_file.write_text("ERROR 42 at row 1000\n")
    peter.locator("#id_attachments").set_input_files(str(log_file))
    # The widget started its work when the form was first focused; by now it is done.
    expect(peter.locator(".altcha")).to_have_attribute("data-state", "verified", timeout=20_000)
    peter.get_by_role("button", name="Send request").click()
    expect(peter.locator("h1")).to_have_text("Thank you, we have your request")
    ticket = Ticket.objects.get()
    expect(peter.locator(".reference")).to_have_text(ticket.reference)
    screenshot(peter, "portal-request-received")
    assert (ticket.kind, ticket.channel, ticket.product) == ("bug", "web", "TPS Reports")

    # The confirmation arrives with the link to the request.
    confirmation = _mail_to(smtp_server, "peter@initech.example", ticket.reference)
    [link] = [url for url in LINK.findall(_text(confirmation)) if "/support/my/" in url]
    assert link.endswith(f"/{ticket.pk}/")

    # The rep has the ticket open while the customer replies with a screenshot.
    erin = new_page()
    log_in(erin, "rep", PASSWORD)
    erin.goto(f"/tickets/{ticket.pk}/")
    expect(erin.locator("#timeline")).to_contain_text("The export stops at 42%")

    peter.goto(link)
    expect(peter.locator(".status")).to_have_text("Received")
    expect(peter.locator(".conversation")).to_contain_text("export.log")
    shot = tmp_path / "screen.png"
    shot.write_bytes(b"\x89PNG\r\n\x1a\n fake screenshot")
    peter.get_by_label("Your message").fill("Here is what I see on screen.")
    peter.locator("#id_attachments").set_input_files(str(shot))
    peter.get_by_role("button", name="Send", exact=True).click()
    expect(peter.get_by_role("status")).to_contain_text("your message was added")
    expect(peter.locator(".conversation")).to_contain_text("screen.png")
    screenshot(peter, "portal-ticket")

    expect(erin.locator("#timeline")).to_contain_text(
        "Here is what I see on screen.", timeout=15_000
    )
    erin.reload()
    erin.get_by_label("Status").select_option("resolved")
    erin.get_by_label("Root cause").select_option("product_defect")
    erin.get_by_label("Resolution", exact=True).fill("Fixed in 2.4.1; the export completes.")
    erin.get_by_role("button", name="Save changes").click()
    expect(erin.locator(".facts .status")).to_have_text("Resolved")

    # Once the clock passes the survey's delay, beat sends it: exactly one survey email.
    survey = wait_for(lambda: Survey.objects.filter(ticket=ticket).first())
    assert surveys_send_due(now=survey.send_after - timedelta(minutes=1)) == 0
    assert surveys_send_due(now=survey.send_after + timedelta(minutes=1)) == 1
    asked = _mail_to(smtp_server, "peter@initech.example", "How did we do?")
    links = LINK.findall(_text(asked))
    [three] = [url for url in links if url.endswith("?score=3")]

    peter.goto(three)
    expect(peter.get_by_label("3", exact=True)).to_be_checked()
    peter.get_by_label("What is the main reason for your score?").fill("late part")
    screenshot(peter, "portal-survey")
    peter.get_by_role("button", name="Send").click()
    expect(peter.get_by_role("status")).to_contain_text("Thank you for your answer")

    # The salesperson finds the detractor's follow-up and records the call.
    sam_page = new_page()
    log_in(sam_page, "sam", PASSWORD)
    sam_page.goto("/followups/")
    card = sam_page.locator(".followup", has_text="Detractor, 3/10: late part")
    expect(card).to_be_visible(timeout=15_000)
    card.get_by_label("Reached and not satisfied").check()
    card.get_by_label("Notes (the reason, or the opportunity)").fill("Part still late; reopened")
    card.get_by_role("button", name="Record outcome").click()
    expect(sam_page.locator(".messages")).to_be_visible()

    ticket.refresh_from_db()
    assert ticket.status == "open"
    erin.goto(f"/tickets/{ticket.pk}/")
    timeline = erin.locator("#timeline")
    expect(timeline).to_contain_text("Peter Gibbons answered 3/10 (Detractor (0-6)).")
    expect(timeline).to_contain_text("Reached and not satisfied")
    satisfaction = erin.locator("#satisfaction")
    expect(satisfaction).to_contain_text("3/10")
    expect(satisfaction).to_contain_text("Reached and not satisfied")
    screenshot(erin, "ticket-page-satisfaction")
    erin.get_by_role("link", name="Initech").first.click()
    surveys = erin.locator("#surveys")
    expect(surveys).to_contain_text("late part")
    expect(surveys).to_contain_text("Reached and not satisfied")
    expect(erin.locator(".nps")).to_contain_text("NPS -100 ± 0, 1 answer")
    screenshot(erin, "customer-page")

    # A link scanner opens every link of every email sent: nothing changes.
    wait_for(lambda: len(smtp_server.messages) >= 2)
    before = _row_counts()
    survey.refresh_from_db()
    answered = (survey.score, survey.comment, survey.changed_at)
    status = Ticket.objects.get().status
    opened = 0
    for message in list(smtp_server.messages):
        for url in LINK.findall(_text(message)):
            if url.startswith(live_server.url):
                with urllib.request.urlopen(url) as response:  # noqa: S310 (our live server)
                    assert response.status == 200
                opened += 1
    assert opened >= 12  # the request's link, and the survey's eleven scores
    assert _row_counts() == before
    survey.refresh_from_db()
    assert (survey.score, survey.comment, survey.changed_at) == answered
    assert Ticket.objects.get().status == status
