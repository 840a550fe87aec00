"""The conversation as reps see and work it: messages on the ticket page, their HTML in a
sandboxed frame, downloads, the reply composer, and mail waiting for a rep at /mail/."""

import re
from email.message import EmailMessage

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.models import InboundMessage, Message, ReplyTemplate
from conversations.processing import inbound_process
from conversations.selectors import waiting_mail_count
from deliveries.models import EmailDelivery
from tests.conversations.conftest import plan_of
from tests.factories import ContactFactory, CustomerFactory
from tickets.models import Ticket


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def browser(client, rep):
    client.force_login(rep)
    return client


def _mail(*, sender="ada@customer.example", subject="Broken", html=None, quoted=True, attach=False):
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{subject.replace(' ', '-')}-{sender}>"
    text = "The screen stays black."
    if quoted:
        text += "\n\nOn Tuesday, Support wrote:\n> Did you try turning it off and on?\n"
    mail.set_content(text)
    if html:
        mail.add_alternative(html, subtype="html")
    if attach:
        mail.add_attachment(
            b"<svg onload=alert(1)>", maintype="image", subtype="svg+xml", filename="x.svg"
        )
    return bytes(mail)


def test_the_ticket_page_shows_what_the_customer_added_and_the_quoted_rest_on_demand(
    browser, ingest, contact
):
    inbound = ingest(_mail())
    page = browser.get(f"/tickets/{inbound.ticket_id}/").content.decode()
    assert "The screen stays black." in page
    assert "<summary>Show quoted text</summary>" in page
    assert page.index("The screen stays black.") < page.index("Show quoted text")
    assert "Did you try turning it off" in page.split("Show quoted text")[1]
    assert f"/mail/{inbound.pk}/original.eml" in page
    assert 'id="reply"' in page
    assert f"To {contact.email}" in page
    assert 'name="body"' in page.split('id="reply"')[1].split("</section>")[0]


def test_the_html_is_served_inert_in_a_sandboxed_frame(browser, ingest, contact):
    html = '<p>Hi</p><script>alert(1)</script><img src="https://tracker.example/p.gif">'
    inbound = ingest(_mail(html=html))
    message = Message.objects.get(inbound=inbound)
    response = browser.get(f"/messages/{message.pk}/html/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy
    assert "default-src 'none'" in policy
    assert "img-src 'self' data:" in policy  # remote images blocked
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert b"<script" not in response.content
    assert b"tracker.example" not in response.content  # not even asked for
    with_images = browser.get(f"/messages/{message.pk}/html/?images=1")
    assert "img-src * data:" in with_images["Content-Security-Policy"]
    assert b"https://tracker.example/p.gif" in with_images.content
    page = browser.get(f"/tickets/{inbound.ticket_id}/").content.decode()
    assert f'src="/messages/{message.pk}/html/"' in page
    assert '<iframe class="message-html" sandbox ' in page


def test_attachments_and_originals_are_downloads_never_rendered(browser, ingest, contact):
    inbound = ingest(_mail(attach=True))
    attachment = Message.objects.get(inbound=inbound).attachments.get()
    response = browser.get(f"/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"  # an SVG would run script
    original = browser.get(f"/mail/{inbound.pk}/original.eml")
    assert original["Content-Disposition"].startswith("attachment")
    assert b"The screen stays black." in b"".join(original.streaming_content)


def test_downloads_are_for_staff_only(client, ingest, contact):
    inbound = ingest(_mail(attach=True))
    attachment = Message.objects.get(inbound=inbound).attachments.get()
    for path in (f"/attachments/{attachment.pk}/", f"/mail/{inbound.pk}/original.eml"):
        assert client.get(path).status_code == 302  # to the login page


def test_a_reply_from_the_page_is_sent_and_shown(browser, ingest, contact):
    inbound = ingest(_mail())
    response = browser.post(
        f"/tickets/{inbound.ticket_id}/reply/", {"body": "Hold the power button."}
    )
    assert response.status_code == 302
    delivery = EmailDelivery.objects.get(key__startswith="message:")
    assert delivery.recipient == contact.email
    assert "Hold the power button." in delivery.body
    page = browser.get(f"/tickets/{inbound.ticket_id}/").content.decode()
    assert "Reply to the customer" in page
    assert "Hold the power button." in page


def test_an_empty_reply_is_refused_with_the_text_kept(browser, ingest, contact):
    inbound = ingest(_mail())
    response = browser.post(f"/tickets/{inbound.ticket_id}/reply/", {"body": "  "})
    assert response.status_code == 400
    assert not EmailDelivery.objects.filter(key__startswith="message:").exists()


def test_files_too_heavy_for_one_email_are_refused_with_the_reply_kept(
    browser, ingest, contact, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.EMAIL_REPLY_ATTACHMENTS_MAX_BYTES = 2500
    inbound = ingest(_mail())

    def files(*sizes):
        return [
            SimpleUploadedFile(f"log{n}.txt", b"x" * size, "text/plain")
            for n, size in enumerate(sizes)
        ]

    url = f"/tickets/{inbound.ticket_id}/reply/"
    # Said before anything is uploaded.
    assert (
        "Up to 10.0\xa0MB each, 2.4\xa0KB together."
        in browser.get(f"/tickets/{inbound.ticket_id}/").content.decode()
    )
    response = browser.post(url, {"body": "The logs.", "attachments": files(1500, 1500)})
    assert response.status_code == 400
    page = response.content.decode()
    assert "one email carries at most" in page
    assert "The logs." in page  # what the rep wrote is still in the composer
    assert not EmailDelivery.objects.filter(key__startswith="message:").exists()
    # Within the limit together, they go.
    response = browser.post(url, {"body": "The logs.", "attachments": files(1200, 1200)})
    assert response.status_code == 302
    assert len(EmailDelivery.objects.get(key__startswith="message:").attachments) == 2


def test_a_reply_to_a_contact_without_an_address_is_a_400_not_a_500(browser, customer):
    contact = ContactFactory(customer=customer, email="")
    from tickets.services import ticket_create

    ticket = ticket_create(
        customer=customer, contact=contact, kind="call", channel="phone", subject="x"
    )
    response = browser.post(f"/tickets/{ticket.pk}/reply/", {"body": "Hello"})
    assert response.status_code == 400
    assert "no email address" in response.content.decode()


def test_reply_templates_are_filled_in_for_the_ticket(browser, ingest, contact, rep):
    ReplyTemplate.objects.create(
        name="Thanks", body="Hello {{ contact.name }}, about {{ ticket.reference }}: {{ rep.name }}"
    )
    ReplyTemplate.objects.create(name="Old", body="x", is_active=False)
    inbound = ingest(_mail())
    data = browser.get(f"/tickets/{inbound.ticket_id}/reply-templates/").json()
    assert [template["name"] for template in data["templates"]] == ["Thanks"]
    assert data["templates"][0]["body"] == (
        f"Hello Ada Customer, about T-{inbound.ticket_id}: {rep.get_full_name() or rep.username}"
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("Hi {{ contact.nmae }}", "contact.nmae"),
        # Written otherwise than a placeholder fills in: it would reach the customer as is.
        ("Hi {{ Contact.Name }}", "Contact.Name"),
        ("Hi {{ contact.name|title }}", "contact.name|title"),
        ("Hi {{contact.first_name}}", "contact.first_name"),
    ],
)
def test_a_template_with_an_unknown_placeholder_is_refused(body, named):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match=re.escape(named)):
        ReplyTemplate(name="Typo", body=body).clean()
    ReplyTemplate(name="Fine", body="Hi {{contact.name}}, about {{ ticket.reference }}").clean()


def test_a_public_note_reaches_the_customer_once(browser, ingest, contact):
    from tests.conftest import dispatch_pending

    inbound = ingest(_mail())
    browser.post(
        f"/tickets/{inbound.ticket_id}/notes/", {"body": "We are on it.", "is_public": "on"}
    )
    browser.post(f"/tickets/{inbound.ticket_id}/notes/", {"body": "Internal only."})
    dispatch_pending()
    dispatch_pending()
    sent = EmailDelivery.objects.filter(key__startswith="message:")
    assert [delivery.body.count("We are on it.") for delivery in sent] == [1]


def test_triage_of_an_unknown_sender_opens_the_ticket_and_remembers_them(browser, ingest):
    inbound = ingest(_mail(sender="newcomer@prospect.example", subject="Interested"))
    assert inbound.status == "triage"
    listing = browser.get("/mail/").content.decode()
    assert "newcomer@prospect.example" in listing
    customer = CustomerFactory(name="Prospect Inc")
    found = browser.get(f"/mail/{inbound.pk}/?customer=prospect").content.decode()
    assert "Prospect Inc" in found
    response = browser.post(
        f"/mail/{inbound.pk}/assign/", {"customer": customer.pk, "contact_name": "Nora Newcomer"}
    )
    inbound.refresh_from_db()
    assert inbound.status == "ticket"
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{inbound.ticket_id}/"
    ticket = Ticket.objects.get(pk=inbound.ticket_id)
    assert ticket.contact.name == "Nora Newcomer"
    assert ticket.contact.email == "newcomer@prospect.example"
    # The next message from them is theirs at once.
    assert ingest(_mail(sender="newcomer@prospect.example", subject="Again")).status == "ticket"


def _nav_mail(page: str) -> str:
    return page.split('id="nav-mail"')[1].split("</a>")[0]


def test_the_navigation_counts_the_mail_waiting_for_a_rep(browser, ingest, contact):
    ingest(_mail())  # a known contact: a ticket, waiting for nobody
    assert "nav-mail-waiting" not in _nav_mail(browser.get("/tickets/").content.decode())
    stranger = ingest(_mail(sender="stranger@prospect.example", subject="Who"))
    anonymous = ingest(_mail(subject="Anonymous").replace(b"From: ada@customer.example\n", b""))
    assert (stranger.status, anonymous.status) == ("triage", "quarantined")
    nav = _nav_mail(browser.get("/tickets/").content.decode())
    assert (
        'id="nav-mail-waiting">2<span class="visually-hidden"> waiting for a rep</span></span>'
        in nav
    )
    assert browser.get("/nav/counts/").json()["mail"] == {"waiting": 2}
    browser.post(f"/mail/{stranger.pk}/assign/", {"contact": contact.pk})
    nav = _nav_mail(browser.get("/tickets/").content.decode())
    assert '>1<span class="visually-hidden"> waiting for a rep</span></span>' in nav
    assert browser.get("/nav/counts/").json()["mail"] == {"waiting": 1}


def _menu_alert(page: str) -> str:
    return page.split('id="menu-alert"')[1].split(">")[0]


def test_the_menu_button_shows_a_dot_while_mail_waits(browser, ingest):
    # A rep of no queue, with no follow-ups: only the mail can set it.
    assert "hidden" in _menu_alert(browser.get("/tickets/").content.decode())
    stranger = ingest(_mail(sender="stranger@prospect.example", subject="Who"))
    assert stranger.status == "triage"
    assert "hidden" not in _menu_alert(browser.get("/tickets/").content.decode())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_counting_the_waiting_mail_reads_only_the_index_of_unsettled_mail(ingest, contact):
    """Every page's navigation counts it: it must not read all the mail ever received."""
    InboundMessage.objects.bulk_create(
        InboundMessage(dedupe_key=f"id:{n}", sha256="0" * 64, raw="x", size=1, status="ticket")
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE conversations_inboundmessage")
    with CaptureQueriesContext(connection) as captured:
        assert waiting_mail_count() == 0
    [query] = captured.captured_queries
    plan = plan_of(query["sql"])
    assert "inbound_waiting_idx" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_saying_who_a_sender_is_settles_all_their_waiting_mail(browser, ingest):
    first = ingest(_mail(sender="pat@prospect.example", subject="Question one"))
    second = ingest(_mail(sender="pat@prospect.example", subject="Question two"))
    customer = CustomerFactory(name="Prospect Inc")
    browser.post(f"/mail/{first.pk}/assign/", {"customer": customer.pk, "contact_name": "Pat"})
    second.refresh_from_db()
    assert second.status == "pending"  # for a task of its own (tests/conversations/test_holds.py)
    assert inbound_process(inbound_id=second.pk) == "ticket"
    second.refresh_from_db()
    assert second.ticket.contact.name == "Pat"


def test_a_sender_assigned_to_an_existing_contact_is_remembered(browser, ingest, contact):
    inbound = ingest(_mail(sender="ada.private@home.example", subject="From home"))
    assert inbound.status == "triage"
    browser.post(f"/mail/{inbound.pk}/assign/", {"contact": contact.pk})
    assert InboundMessage.objects.get(pk=inbound.pk).ticket.contact == contact
    again = ingest(_mail(sender="ada.private@home.example", subject="Again from home"))
    assert again.status == "ticket"
    assert again.ticket.contact == contact


def test_a_waiting_message_can_be_put_on_a_ticket(browser, ingest, contact):
    first = ingest(_mail())
    stranger = ingest(_mail(sender="colleague@partner.example", subject="About the screen"))
    response = browser.post(f"/mail/{stranger.pk}/attach/", {"reference": first.ticket.reference})
    assert response.status_code == 302
    stranger.refresh_from_db()
    assert stranger.status == "appended"
    assert Message.objects.filter(inbound=stranger, ticket=first.ticket).exists()
    refused = browser.post(f"/mail/{stranger.pk}/attach/", {"reference": "T-999999"})
    assert refused.status_code == 400


def test_a_quarantined_message_can_be_retried(browser, ingest, contact):
    raw = _mail().replace(b"From: ada@customer.example\n", b"")
    inbound = ingest(raw)
    assert inbound.status == "quarantined"
    detail = browser.get(f"/mail/{inbound.pk}/").content.decode()
    assert "No sender address" in detail
    response = browser.post(f"/mail/{inbound.pk}/retry/")
    assert response.status_code == 302
    assert InboundMessage.objects.get(pk=inbound.pk).status == "quarantined"


def test_a_double_click_on_retry_processes_the_message_once(browser, ingest, contact):
    raw = _mail(sender="later@customer.example", subject="Who am I")
    inbound = ingest(raw)
    assert inbound.status == "triage"
    ContactFactory(customer=contact.customer, email="later@customer.example")
    assert browser.post(f"/mail/{inbound.pk}/retry/").status_code == 302
    second = browser.post(f"/mail/{inbound.pk}/retry/", follow=True)
    assert second.status_code == 200
    assert "no longer waits" in second.content.decode()
    assert InboundMessage.objects.get(pk=inbound.pk).status == "ticket"
    assert Ticket.objects.count() == 1


def test_the_messages_own_images_show_in_the_frame(browser, ingest, contact):
    from email.message import EmailMessage as Mail

    mail = Mail()
    mail["From"] = "ada@customer.example"
    mail["To"] = "support@example.com"
    mail["Subject"] = "Screenshot"
    mail["Message-ID"] = "<cid-image@customer.example>"
    mail.set_content("See the screenshot.")
    mail.add_alternative('<p>Here:</p><img src="cid:shot1" alt="screenshot">', subtype="html")
    html_part = mail.get_payload()[1]
    html_part.add_related(b"\x89PNG fake", maintype="image", subtype="png", cid="<shot1>")
    inbound = ingest(bytes(mail))
    message = Message.objects.get(inbound=inbound)
    frame = browser.get(f"/messages/{message.pk}/html/").content.decode()
    assert 'src="data:image/png;base64,' in frame
    assert "cid:" not in frame


def test_a_bouncing_address_is_shown_to_the_rep(browser, ingest, contact):
    from django.utils import timezone

    inbound = ingest(_mail())
    contact.email_bouncing_since = timezone.now()
    contact.email_bounce_reason = "5.1.1 User unknown"
    contact.save()
    page = browser.get(f"/tickets/{inbound.ticket_id}/").content.decode()
    assert "(mail to it bounces)" in page
    assert "but not emailed" in page
    assert f'href="/customers/{contact.customer_id}/#contacts"' in page
    assert "Save the reply (not emailed)" in page


def test_a_public_note_posted_through_the_api_is_emailed_too(api, ingest, contact):
    from tests.conftest import dispatch_pending

    inbound = ingest(_mail())
    response = api.post(
        f"/api/v1/tickets/{inbound.ticket_id}/timeline/",
        {"body": "Fixed in 4.2.", "is_internal": False},
        format="json",
    )
    assert response.status_code == 201, response.content
    dispatch_pending()
    sent = EmailDelivery.objects.get(key__startswith="message:")
    assert "Fixed in 4.2." in sent.body


def test_triage_suggests_the_customers_whose_people_write_from_the_senders_domain(browser, ingest):
    globex = CustomerFactory(name="Globex")
    ContactFactory(customer=globex, name="Hank", email="hank@globex.example")
    inbound = ingest(_mail(sender="newhire@globex.example", subject="First day"))
    assert inbound.status == "triage"
    page = browser.get(f"/mail/{inbound.pk}/").content.decode()
    assert 'id="suggested"' in page
    assert "<legend>Globex</legend>" in page
    # A domain everyone writes from (a mail provider's) suggests nobody.
    for number in range(4):
        ContactFactory(email=f"someone{number}@mail.example")
    stranger = ingest(_mail(sender="pat@mail.example", subject="Hello"))
    page = browser.get(f"/mail/{stranger.pk}/").content.decode()
    assert 'id="suggested"' not in page


def test_a_name_typed_for_a_new_contact_is_enough_without_ticking_the_choice(browser, ingest):
    inbound = ingest(_mail(sender="pat@prospect.example", subject="Question"))
    customer = CustomerFactory(name="Prospect Inc")
    response = browser.post(
        f"/mail/{inbound.pk}/assign/?customer=Prospect",
        {"for_customer": customer.pk, "contact_name": "Pat"},
    )
    assert response.status_code == 302
    inbound.refresh_from_db()
    assert inbound.ticket.contact.name == "Pat"


def test_a_refused_triage_keeps_the_customers_found(browser, ingest):
    inbound = ingest(_mail(sender="pat@prospect.example", subject="Question"))
    customer = CustomerFactory(name="Prospect Inc")
    found = browser.get(f"/mail/{inbound.pk}/?customer=Prospect").content.decode()
    assert f'action="/mail/{inbound.pk}/assign/?customer=Prospect#assign"' in found
    response = browser.post(
        f"/mail/{inbound.pk}/assign/?customer=Prospect", {"for_customer": customer.pk}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a contact" in page
    assert "<legend>Prospect Inc</legend>" in page


def test_a_held_reply_quoting_a_ticket_offers_that_ticket(browser, ingest, contact):
    first = ingest(_mail())
    stranger = ingest(
        _mail(sender="bob@other.example", subject=f"Re: Broken [{first.ticket.reference}]")
    )
    assert stranger.status == "triage"
    page = browser.get(f"/mail/{stranger.pk}/").content.decode()
    assert f'value="{first.ticket.reference}"' in page


def test_mail_that_is_no_business_of_the_help_desk_can_be_dismissed(browser, ingest, rep):
    spam = ingest(_mail(sender="offers@spam.example", subject="Cheap watches"))
    assert spam.status == "triage"
    assert waiting_mail_count() == 1
    response = browser.post(f"/mail/{spam.pk}/dismiss/")
    assert response.status_code == 302
    spam.refresh_from_db()
    assert spam.status == "dismissed"
    assert spam.reason.startswith("Dismissed by")
    assert waiting_mail_count() == 0
    assert not Ticket.objects.exists()
    # Kept, and listed with all the mail received; dismissed once only.
    assert "Cheap watches" in browser.get("/mail/?view=all").content.decode()
    again = browser.post(f"/mail/{spam.pk}/dismiss/", follow=True)
    assert "no longer waits" in again.content.decode()


def test_an_email_that_failed_for_good_is_shown_and_can_be_sent_again(browser, ingest, contact):
    from deliveries.services import email_deliver

    inbound = ingest(_mail())
    url = f"/tickets/{inbound.ticket_id}/"
    browser.post(f"{url}reply/", {"body": "Hold the power button."})
    delivery = EmailDelivery.objects.get(key__startswith="message:")
    EmailDelivery.objects.filter(pk=delivery.pk).update(
        status="failed", attempts=5, reason="SMTP 451 4.7.1 Try again later"
    )
    page = browser.get(url).content.decode()
    assert "The last email to the customer was not delivered" in page
    assert "SMTP 451 4.7.1 Try again later" in page
    retry = f"{url}emails/{delivery.pk}/retry/"
    assert f'action="{retry}"' in page
    assert browser.post(retry).status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.reason) == ("pending", 0, "")
    assert email_deliver(delivery_id=delivery.pk) == "sent"
    assert "not delivered" not in browser.get(url).content.decode()
    # Asked again (a second tab, a double post): nothing more is sent.
    assert browser.post(retry).status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_a_failed_email_goes_again_to_the_address_as_it_is_now_and_never_while_it_bounces(
    browser, ingest, contact
):
    from django.utils import timezone

    inbound = ingest(_mail())
    url = f"/tickets/{inbound.ticket_id}/"
    browser.post(f"{url}reply/", {"body": "Hold the power button."})
    delivery = EmailDelivery.objects.get(key__startswith="message:")
    EmailDelivery.objects.filter(pk=delivery.pk).update(status="failed", reason="550 5.1.1")
    contact.email_bouncing_since = timezone.now()
    contact.email_bounce_reason = "5.1.1 User unknown"
    contact.save()
    retry = f"{url}emails/{delivery.pk}/retry/"
    page = browser.get(url).content.decode()
    assert f'action="{retry}"' not in page  # what would bounce again is not offered
    assert "change it first" in browser.post(retry, follow=True).content.decode()
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    # The rep corrects the address: the email goes there.
    contact.email, contact.email_bouncing_since = "ada@customer-new.example", None
    contact.save()
    assert "Send it again to ada@customer-new.example" in browser.get(url).content.decode()
    browser.post(retry)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.recipient) == ("pending", "ada@customer-new.example")


def test_a_failed_email_of_a_contact_now_without_an_address_is_not_sent_again(
    browser, ingest, contact
):
    inbound = ingest(_mail())
    url = f"/tickets/{inbound.ticket_id}/"
    browser.post(f"{url}reply/", {"body": "Hold the power button."})
    delivery = EmailDelivery.objects.get(key__startswith="message:")
    EmailDelivery.objects.filter(pk=delivery.pk).update(status="failed", reason="451")
    contact.email = ""
    contact.save()
    page = browser.post(f"{url}emails/{delivery.pk}/retry/", follow=True).content.decode()
    assert "The ticket&#x27;s contact has no email address: add one first." in page
    delivery.refresh_from_db()
    assert delivery.status == "failed"
