"""A conversation over the real local SMTP server: the customer writes, is acknowledged, a rep
answers, and the customer's answer to that (built from the message as it was received) lands on
the same ticket, whichever sign of the thread survived their mail client and provider."""

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from conversations.models import InboundMessage, Message
from conversations.replies import reply_send
from deliveries.models import EmailDelivery
from deliveries.services import email_deliver
from tickets.models import Ticket


def send_pending() -> int:
    pending = EmailDelivery.objects.filter(status="pending").order_by("pk")
    return sum(email_deliver(delivery_id=delivery.pk) == "sent" for delivery in pending)


def modern(message) -> EmailMessage:
    """A captured message read with the modern policy (get_body, get_content)."""
    return message_from_bytes(message.as_bytes(), policy=policy.default)


def customer_mail(subject="Printer on fire", body="It smokes when I print.", **headers) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Ada Customer <ada@customer.example>"
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = headers.pop("message_id", "<first@customer.example>")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return bytes(mail)


def answer_to(received, *, body, message_id, drop=(), **replace) -> bytes:
    """The customer's answer to a message we sent, as a mail client builds it."""
    mail = EmailMessage()
    mail["From"] = "Ada Customer <ada@customer.example>"
    mail["To"] = replace.pop("to", received["Reply-To"])
    mail["Subject"] = replace.pop("subject", "Re: " + received["Subject"])
    mail["Message-ID"] = message_id
    if "In-Reply-To" not in drop:
        mail["In-Reply-To"] = received["Message-ID"]
    if "References" not in drop:
        mail["References"] = f"{received.get('References', '')} {received['Message-ID']}".strip()
    quoted = received.get_body(("plain",)).get_content()[:200]
    mail.set_content(f"{body}\n\nOn Monday, Support wrote:\n> {quoted}")
    return bytes(mail)


@pytest.fixture
def conversation(ingest, contact, smtp_server, settings, tmp_path, rep):
    settings.MEDIA_ROOT = str(tmp_path)
    first = ingest(customer_mail())
    assert first.status == "ticket"
    assert send_pending() == 1
    ticket = first.ticket
    reply_send(ticket=ticket, author=rep, body="Please unplug it and send us the serial number.")
    assert send_pending() == 1
    return ticket, [modern(message) for message in smtp_server.messages]


def test_the_acknowledgement_answers_the_request_and_names_the_ticket(conversation):
    ticket, sent = conversation
    ack = sent[0]
    assert ack["To"] == "ada@customer.example"
    assert ack["In-Reply-To"] == "<first@customer.example>"
    assert "<first@customer.example>" in ack["References"]
    assert f"[{ticket.reference}]" in ack["Subject"]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["Reply-To"].startswith(f"support+T{ticket.pk}.c")
    assert ack["Message-ID"].endswith("@localhost>")
    assert ticket.reference in ack.get_body(("plain",)).get_content()


def test_the_acknowledgement_is_on_the_timeline_but_not_in_the_search(conversation):
    """Its words are the same for every customer: searching for them must not find every
    emailed ticket. The customer's words and the rep's reply are found."""
    from tickets.models import TimelineEntry
    from tickets.selectors import tickets_search

    ticket, _ = conversation
    assert TimelineEntry.objects.filter(
        ticket=ticket, kind="message", author__isnull=True, body__contains="received your request"
    ).exists()
    found = tickets_search(Ticket.objects.all(), "received your request")
    assert not found.filter(pk=ticket.pk).exists()
    assert tickets_search(Ticket.objects.all(), "smokes").filter(pk=ticket.pk).exists()
    assert tickets_search(Ticket.objects.all(), "unplug").filter(pk=ticket.pk).exists()


def test_a_reps_reply_is_a_person_writing_and_threads_after_the_customers_message(conversation):
    ticket, sent = conversation
    reply = sent[1]
    assert reply["Auto-Submitted"] is None
    assert reply["In-Reply-To"] == "<first@customer.example>"
    assert reply.get_body(("html",)) is not None
    assert "unplug it" in reply.get_body(("plain",)).get_content()
    out = Message.objects.get(ticket=ticket, direction="out", author__isnull=False)
    assert f"<{out.message_id}>" == reply["Message-ID"]
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None


@pytest.mark.parametrize(
    ("how", "changes"),
    [
        ("headers", {"to": "support@example.com", "subject": "Re: something else"}),
        ("subject", {"to": "support@example.com", "drop": ("In-Reply-To", "References")}),
        # A provider replaced the Message-IDs and the customer rewrote the subject: only the
        # signed Reply-To is left.
        ("reply address", {"subject": "new words", "drop": ("In-Reply-To", "References")}),
    ],
)
def test_the_customers_answer_threads_onto_the_ticket(conversation, ingest, how, changes):
    ticket, sent = conversation
    raw = answer_to(
        sent[1], body="Serial is 42-XY.", message_id=f"<answer-{how}@c.example>", **changes
    )
    inbound = ingest(raw)
    assert inbound.status == "appended", inbound.reason
    assert inbound.ticket_id == ticket.pk
    assert f"(by {how})" in inbound.reason
    message = Message.objects.get(inbound=inbound)
    assert message.text_new == "Serial is 42-XY."
    assert "On Monday, Support wrote" in message.text
    assert Ticket.objects.count() == 1


def test_a_forged_reply_address_threads_nothing(conversation, ingest):
    ticket, sent = conversation
    token = sent[1]["Reply-To"]
    forged = token[:-13] + ("0" if token[-13] != "0" else "1") + token[-12:]
    raw = answer_to(
        sent[1],
        body="Hi",
        message_id="<forged@c.example>",
        to=forged,
        subject="unrelated",
        drop=("In-Reply-To", "References"),
    )
    inbound = ingest(raw)
    assert inbound.status == "ticket"
    assert inbound.ticket_id != ticket.pk


def test_a_strangers_mail_quoting_the_ticket_number_waits_for_a_rep(conversation, ingest):
    ticket, _ = conversation
    mail = EmailMessage()
    mail["From"] = "mallory@elsewhere.example"
    mail["To"] = "support@example.com"
    mail["Subject"] = f"Re: [{ticket.reference}] about that"
    mail["Message-ID"] = "<stranger@elsewhere.example>"
    mail.set_content("Please send me their serial numbers.")
    inbound = ingest(bytes(mail))
    assert inbound.status == "triage"
    assert ticket.reference in inbound.reason
    assert not Message.objects.filter(inbound=inbound).exists()


def test_an_autoresponder_answering_us_does_not_loop(conversation, ingest, smtp_server):
    """Twenty rounds of an out-of-office answering whatever we send: no acknowledgement more,
    no reopening, each recorded as automatic."""
    ticket, sent = conversation
    variants = [
        {"Auto-Submitted": "auto-replied"},
        {
            "X-Auto-Response-Suppress": "All",
            "X-MS-Exchange-Inbox-Rules-Loop": "ada@customer.example",
        },
        {},  # nothing but the subject says so
    ]
    for round_number in range(20):
        last = modern(smtp_server.messages[-1])
        mail = EmailMessage()
        mail["From"] = "ada@customer.example"
        mail["To"] = last["Reply-To"] or "support@example.com"
        mail["Subject"] = "Automatic reply: " + last["Subject"]
        mail["Message-ID"] = f"<ooo-{round_number}@customer.example>"
        mail["In-Reply-To"] = last["Message-ID"]
        for name, value in variants[round_number % 3].items():
            mail[name] = value
        mail.set_content("I am out of the office until Monday.")
        inbound = ingest(bytes(mail))
        assert inbound.status == "appended", inbound.reason
        send_pending()
    assert len(smtp_server.messages) == 2  # the acknowledgement and the rep's reply
    assert Message.objects.filter(ticket=ticket, is_automatic=True, direction="in").count() == 20
    assert InboundMessage.objects.filter(status="ticket").count() == 1


def test_only_one_acknowledgement_per_sender_per_hour(
    ingest, contact, smtp_server, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    for number in range(3):
        ingest(customer_mail(subject=f"Question {number}", message_id=f"<q{number}@c.example>"))
    send_pending()
    assert Ticket.objects.count() == 3
    assert len(smtp_server.messages) == 1


def test_a_reply_quoting_the_id_a_provider_gave_our_email_threads(conversation, ingest):
    """Amazon SES replaces our Message-ID with its own and reports it; a reply that answers
    that id (and carries no other sign) still finds the ticket."""
    ticket, _ = conversation
    delivery = EmailDelivery.objects.filter(key__startswith="message:").get()
    # What anymail reports for SES: the bare id; SES writes it as <id@region.amazonses.com>.
    EmailDelivery.objects.filter(pk=delivery.pk).update(provider_message_id="0100018c-ses-replaced")
    mail = EmailMessage()
    mail["From"] = "ada@customer.example"
    mail["To"] = "support@example.com"
    mail["Subject"] = "no tag here"
    mail["Message-ID"] = "<after-ses@customer.example>"
    mail["In-Reply-To"] = "<0100018c-ses-replaced@email.amazonses.com>"
    mail.set_content("Done.")
    inbound = ingest(bytes(mail))
    assert inbound.status == "appended"
    assert inbound.ticket_id == ticket.pk


def test_a_reply_address_signed_before_the_key_was_rotated_still_threads(
    conversation, ingest, settings
):
    ticket, sent = conversation
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-key-after-rotation-" + "x" * 40
    raw = answer_to(
        sent[1],
        body="Still broken.",
        message_id="<after-rotation@c.example>",
        to=sent[1]["Reply-To"],
        subject="unrelated",
        drop=("In-Reply-To", "References"),
    )
    settings.SECRET_KEY_FALLBACKS = [old_key]
    inbound = ingest(raw)
    assert inbound.status == "appended", inbound.reason
    assert inbound.ticket_id == ticket.pk
    assert "(by reply address)" in inbound.reason
