"""End to end in headless Chromium: the conversation with the customer. A rep triages mail from
an unknown sender, reads a reply with its quoted history folded away, looks at the sender's
HTML (scripts inert, remote images blocked), and answers from a reply template by keyboard."""

from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from conversations.intake import inbound_store
from conversations.models import InboundMessage, Mailbox, ReplyTemplate
from conversations.processing import inbound_process
from deliveries.models import EmailDelivery
from tests.browser.conftest import log_in, screenshot
from tests.factories import ContactFactory, CustomerFactory
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-only"
HTML = (
    "<p>Hello, the <b>export</b> fails.</p>"
    "<script>window.parent.pwned = 1; alert('script')</script>"
    '<img src="x" onerror="window.parent.pwned = 2; alert(\'onerror\')">'
    '<img src="https://tracker.example/pixel.gif" alt="tracker">'
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _ingest(sender: str, subject: str, *, html: str | None = None) -> int:
    mailbox, _ = Mailbox.objects.get_or_create(name="support", address="support@example.com")
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{subject.replace(' ', '.')}@customer.example>"
    mail.set_content(
        "The export fails with error 42.\n\n"
        "On Monday, Support wrote:\n> Which version do you run?\n> We need it to help.\n"
    )
    if html:
        mail.add_alternative(html, subtype="html")
    inbound, _ = inbound_store(raw=bytes(mail), source="pipe", mailbox=mailbox)
    inbound_process(inbound_id=inbound.pk)
    inbound.refresh_from_db()
    return inbound


def test_a_rep_triages_mail_from_an_unknown_sender(page, rep):
    customer = CustomerFactory(name="Globex Corporation")
    ContactFactory(customer=customer, name="Hank Scorpio", email="hank@globex.example")
    inbound = _ingest("newhire@globex.example", "Export fails")
    assert inbound.status == "triage"
    log_in(page, "rep", PASSWORD)
    page.get_by_role("link", name="Mail").click()
    expect(page.get_by_role("cell", name="newhire@globex.example", exact=True)).to_be_visible()
    screenshot(page, "mail-waiting")
    # On a phone each message is a block, its subject (the link) across the whole width.
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.locator("td.mail-subject").first.bounding_box()["width"] > 300
    page.set_viewport_size(size)
    page.get_by_role("link", name="Export fails").click()
    page.get_by_label("Customer").fill("globex")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_text("Globex Corporation")).to_be_visible()
    page.get_by_label("A new contact, writing from newhire@globex.example:").check()
    page.get_by_label("New contact's name for Globex Corporation").fill("Nina Newhire")
    screenshot(page, "mail-triage")
    page.get_by_role("button", name="This is who wrote").click()
    expect(page.locator("h1")).to_contain_text("Export fails")
    expect(page.locator(".facts")).to_contain_text("Nina Newhire")
    expect(page.locator(".facts")).to_contain_text("Email")


def test_the_mail_count_in_the_navigation_follows_without_a_reload(page, rep, settings):
    settings.NAV_COUNTS_REFRESH_SECONDS = 1
    log_in(page, "rep", PASSWORD)
    page.goto("/tickets/")
    expect(page.locator("#nav-mail-waiting")).to_have_count(0)
    page.evaluate("window.stillHere = true")
    first = _ingest("stranger@unknown.example", "Pricing question")
    _ingest("someone@unknown.example", "Another question")
    assert first.status == "triage"
    badge = page.locator("#nav-mail-waiting")
    expect(badge).to_have_text("2 waiting for a rep", timeout=5_000)
    expect(page.get_by_role("link", name="Mail 2 waiting for a rep", exact=True)).to_be_visible()
    assert page.evaluate("window.stillHere") is True
    screenshot(page, "nav-mail-count")
    InboundMessage.objects.filter(status="triage").update(status="ticket")
    expect(badge).to_have_count(0, timeout=5_000)
    expect(page.get_by_role("link", name="Mail", exact=True)).to_be_visible()


def test_on_a_phone_the_menu_button_says_when_work_is_waiting(page, rep, settings):
    settings.NAV_COUNTS_REFRESH_SECONDS = 1
    log_in(page, "rep", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/tickets/")
    dot = page.locator("#menu-alert")
    expect(page.get_by_role("button", name="Menu", exact=True)).to_be_visible()
    expect(dot).to_be_hidden()
    _ingest("stranger@unknown.example", "Pricing question")
    # Live, as the badges it stands for: behind the closed menu, the button says it.
    expect(dot).to_be_visible(timeout=5_000)
    expect(page.get_by_role("button", name="Menu (work is waiting)")).to_be_visible()
    screenshot(page, "phone-menu-work-waiting")
    # Forced colours (Windows' contrast themes) drop backgrounds: the dot must still differ.
    page.emulate_media(forced_colors="active")
    colour = "(e) => getComputedStyle(e).backgroundColor"
    bar = page.locator(".topbar").evaluate(colour)
    assert dot.evaluate(colour) not in (bar, "rgba(0, 0, 0, 0)")
    page.emulate_media(forced_colors="none")
    InboundMessage.objects.filter(status="triage").update(status="ticket")
    expect(dot).to_be_hidden(timeout=5_000)
    expect(page.get_by_role("button", name="Menu", exact=True)).to_be_visible()


def test_a_mail_count_rendered_with_the_page_goes_and_comes_back_cleanly(page, rep, settings):
    settings.NAV_COUNTS_REFRESH_SECONDS = 1
    _ingest("stranger@unknown.example", "Pricing question")
    log_in(page, "rep", PASSWORD)
    page.goto("/tickets/")
    text = "document.getElementById('nav-mail').textContent"
    assert page.evaluate(text) == "Mail 1 waiting for a rep"
    InboundMessage.objects.filter(status="triage").update(status="ticket")
    expect(page.locator("#nav-mail-waiting")).to_have_count(0, timeout=5_000)
    assert page.evaluate(text) == "Mail"
    _ingest("someone@unknown.example", "Another question")
    expect(page.locator("#nav-mail-waiting")).to_have_text("1 waiting for a rep", timeout=5_000)
    assert page.evaluate(text) == "Mail 1 waiting for a rep"


def test_a_rep_reads_the_reply_and_its_html_safely(page, rep):
    customer = CustomerFactory(name="Initech")
    ContactFactory(customer=customer, name="Peter Gibbons", email="peter@initech.example")
    inbound = _ingest("peter@initech.example", "TPS export", html=HTML)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    log_in(page, "rep", PASSWORD)
    page.goto(f"/tickets/{inbound.ticket_id}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("The export fails with error 42.")
    quoted = timeline.get_by_text("Which version do you run?")
    expect(quoted).to_be_hidden()
    timeline.get_by_text("Show quoted text").click()
    expect(quoted).to_be_visible()
    timeline.get_by_text("Show the formatted message").click()
    frame = page.frame_locator("iframe.message-html")
    expect(frame.locator("b")).to_have_text("export")
    page.wait_for_timeout(500)
    screenshot(page, "ticket-email-message")
    assert page.evaluate("window.pwned") is None
    assert dialogs == []
    assert not [url for url in requests if "tracker.example" in url]


def test_a_rep_answers_with_a_reply_template_by_keyboard(page, rep):
    customer = CustomerFactory(name="Umbrella")
    ContactFactory(customer=customer, name="Alice Abernathy", email="alice@umbrella.example")
    ReplyTemplate.objects.create(
        name="Ask for the version",
        body="Hello {{ contact.name }}, which version of the product do you run? "
        "({{ ticket.reference }})",
    )
    ReplyTemplate.objects.create(name="Closing", body="Glad it works, {{ contact.name }}.")
    ReplyTemplate.objects.create(
        name="Closing with survey", body="Glad it works. A survey follows."
    )
    inbound = _ingest("alice@umbrella.example", "Export broken")
    log_in(page, "rep", PASSWORD)
    page.goto(f"/tickets/{inbound.ticket_id}/")
    page.locator("body").click()
    page.keyboard.press("r")
    reply = page.locator("#id_reply_body")
    expect(reply).to_be_focused()
    picker = page.get_by_label("Start from a template")
    picker.focus()
    # A name typed on the way to a longer one is not a choice: "Closing" is not chosen
    # while the rep types "Closing with survey".
    picker.press_sequentially("Closing with survey")
    expect(picker).to_have_value("Closing with survey")
    expect(reply).to_have_value("")
    picker.fill("closing")
    picker.press("Enter")  # the exact name, in any case
    expect(reply).to_have_value("Glad it works, Alice Abernathy.")
    reply.fill("")
    picker.focus()
    picker.press_sequentially("version")  # part of a name only one template has
    picker.press("Enter")
    expect(reply).to_have_value(
        f"Hello Alice Abernathy, which version of the product do you run? (T-{inbound.ticket_id})"
    )
    expect(reply).to_be_focused()
    picker.press_sequentially("clos")
    picker.press("Enter")  # two names hold it: nothing is inserted, and the rep is told
    expect(page.locator("#reply-template-hint")).to_have_text(
        "2 templates match: type more of the name."
    )
    picker.fill("")
    reply.focus()
    reply.press("End")
    reply.type(" Thanks!")
    # A question asked: the ticket waits for the customer's answer.
    page.get_by_label("Then set the ticket to").select_option("pending")
    screenshot(page, "ticket-reply-composer")
    reply.press("Control+Enter")
    expect(page.get_by_text("Reply sent to alice@umbrella.example")).to_be_visible()
    assert Ticket.objects.get(pk=inbound.ticket_id).status == "pending"
    expect(page.locator("#timeline")).to_contain_text("Reply to the customer")
    delivery = EmailDelivery.objects.get(key__startswith="message:")
    assert "which version of the product do you run?" in delivery.body
    assert "Thanks!" in delivery.body
