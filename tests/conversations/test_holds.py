"""What holds a message for a rep rather than guessing, and a rep's decision releasing it: a
subject that only reads like an automatic reply, read receipts, a sender missing, a flood, a
stranger quoting another customer's ticket; and a reply on an old thread by a colleague."""

import base64
import threading
from datetime import timedelta
from email.message import EmailMessage
from unittest import mock

import pytest
from django.utils import timezone

from conversations import processing, reopening, services
from conversations.intake import inbound_store
from conversations.models import Attachment, InboundMessage, Message
from conversations.processing import inbound_process
from deliveries.models import EmailDelivery
from tests.factories import ContactFactory, CustomerFactory
from tickets.models import Ticket
from tickets.services import ticket_update


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _mail(number, *, subject="Help", sender="ada@customer.example", text="", **headers) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<holds-{number}@customer.example>"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(text or f"Message {number}.")
    return bytes(mail)


def _acknowledgements():
    return EmailDelivery.objects.filter(key__startswith="ack:")


def _resolve_long_ago(ticket, rep, settings) -> None:
    ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="product_defect", resolution="ok"
    )
    long_ago = timezone.now() - timedelta(days=settings.EMAIL_REOPEN_DAYS + 1)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=long_ago)


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply rules stopped working after the update",
        "Auto-response emails go to the wrong customers",
        "Out of office hours support: is there a phone number?",
        "Absence management module crashes",
    ],
)
def test_a_person_writing_about_automatic_replies_gets_a_ticket(ingest, contact, subject):
    inbound = ingest(_mail(1, subject=subject))
    assert inbound.status == "ticket", inbound.reason
    assert _acknowledgements().count() == 1


def test_a_subject_alone_that_reads_automatic_waits_for_a_rep_and_is_not_answered(
    ingest, contact, rep
):
    exchange = ingest(_mail(9, subject="Out of Office AutoReply: Your order"))
    assert exchange.status == "triage", exchange.reason
    exchange.delete()
    inbound = ingest(_mail(1, subject="Automatic reply: Your order"))
    assert inbound.status == "triage"
    assert "no header says it is one" in inbound.reason
    assert not Ticket.objects.exists()
    # The rep says Ada wrote it: a ticket, and still no acknowledgement to what may be a robot.
    assert services.inbound_assign(inbound=inbound, actor=rep, contact=contact) == "ticket"
    assert Ticket.objects.get().contact == contact
    assert not _acknowledgements().exists()


def test_a_subject_that_reads_automatic_on_a_thread_is_added_and_reopens_nothing(
    ingest, contact, rep
):
    first = ingest(_mail(1))
    ticket_update(
        ticket=first.ticket, actor=rep, status="resolved", root_cause="usability", resolution="ok"
    )
    reply = ingest(_mail(2, subject=f"Out of Office: Re: Help [{first.ticket.reference}]"))
    assert reply.status == "appended"
    assert Message.objects.get(inbound=reply).is_automatic
    assert Ticket.objects.get(pk=first.ticket_id).status == "resolved"


def _read_receipt(number: int, *, in_reply_to: str = "") -> bytes:
    threading_header = f"In-Reply-To: <{in_reply_to}>\r\n" if in_reply_to else ""
    return (
        "From: ada@customer.example\r\nTo: support@example.com\r\n"
        f"Subject: Read: Help\r\nMessage-ID: <mdn-{number}@customer.example>\r\n"
        f"{threading_header}MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\r\n'
        "\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n"
        "--b\r\nContent-Type: message/disposition-notification\r\n\r\n"
        "Final-Recipient: rfc822;ada@customer.example\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
        "\r\n--b--\r\n"
    ).encode()


def test_a_read_receipt_is_a_machine_writing(ingest, contact, rep):
    first = ingest(_mail(1))
    acknowledgement = Message.objects.get(ticket=first.ticket, direction="out")
    ticket_update(
        ticket=first.ticket, actor=rep, status="resolved", root_cause="usability", resolution="ok"
    )
    receipt = ingest(_read_receipt(1, in_reply_to=acknowledgement.message_id))
    assert receipt.status == "appended"
    assert Message.objects.get(inbound=receipt).is_automatic
    assert Ticket.objects.get(pk=first.ticket_id).status == "resolved"  # not reopened
    alone = ingest(_read_receipt(2))
    assert alone.status == "auto", alone.reason
    assert "disposition-notification" in alone.reason
    assert Ticket.objects.count() == 1
    assert _acknowledgements().count() == 1  # the first request's only


def test_a_stray_byte_in_base64_is_read_leniently_not_quarantined(ingest, contact):
    content = b"%PDF" * 300
    encoded = base64.encodebytes(content)
    raw = (
        b"From: ada@customer.example\r\nTo: support@example.com\r\nSubject: Scan\r\n"
        b"Message-ID: <stray@customer.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        b'--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"'
        b"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + encoded[:100]
        + b"\xa0"
        + encoded[100:]
        + b"\r\n--b--\r\n"
    )
    inbound = ingest(raw)
    assert inbound.status == "ticket", inbound.reason
    assert Attachment.objects.get().file.read() == content


def test_a_rep_naming_the_contact_of_a_message_without_a_sender_opens_its_ticket(
    ingest, contact, rep
):
    raw = (
        b"To: support@example.com\r\nSubject: Call me back\r\n"
        b"Message-ID: <nosender@customer.example>\r\n\r\nThis is Ada, please call.\r\n"
    )
    inbound = ingest(raw)
    assert inbound.status == "quarantined"
    assert services.inbound_assign(inbound=inbound, actor=rep, contact=contact) == "ticket"
    assert Ticket.objects.get().contact == contact


def test_a_rep_releases_a_message_the_flood_limit_held(ingest, contact, rep, settings):
    settings.EMAIL_SENDER_HOURLY_LIMIT = 2
    held = [ingest(_mail(number, subject=f"Request {number}")) for number in range(3)][-1]
    assert held.status == "quarantined"
    assert services.inbound_assign(inbound=held, actor=rep, contact=contact) == "ticket"
    assert Ticket.objects.count() == 3
    # The limit holds what the sender writes next all the same.
    assert ingest(_mail(4, subject="Request 4")).status == "quarantined"


def test_a_stranger_quoting_another_customers_ticket_gets_their_own_once_a_rep_says_who(
    ingest, contact, rep
):
    first = ingest(_mail(1))
    stranger = ingest(
        _mail(2, subject=f"Re: Help [{first.ticket.reference}]", sender="bob@other.example")
    )
    assert stranger.status == "triage"
    other = CustomerFactory(name="Other Co")
    status = services.inbound_assign(
        inbound=stranger, actor=rep, customer=other, contact_name="Bob"
    )
    assert status == "ticket"
    stranger.refresh_from_db()
    assert stranger.ticket.customer == other
    assert stranger.ticket_id != first.ticket_id
    assert first.ticket.messages.filter(direction="in").count() == 1  # nothing added to Ada's


def test_a_colleague_answering_a_long_closed_thread_owns_the_new_ticket(
    ingest, contact, rep, settings
):
    first = ingest(_mail(1))
    _resolve_long_ago(first.ticket, rep, settings)
    carl = ContactFactory(customer=contact.customer, name="Carl", email="carl@customer.example")
    again = ingest(
        _mail(2, subject=f"Re: Help [{first.ticket.reference}]", sender="carl@customer.example")
    )
    assert again.status == "ticket"
    assert again.ticket_id != first.ticket_id
    assert again.ticket.contact == carl


@pytest.mark.django_db(transaction=True)
def test_two_replies_on_a_long_closed_thread_at_once_open_one_new_ticket(
    mailbox, contact, rep, settings
):
    with mock.patch("conversations.intake.enqueue_on_commit"):
        first, _ = inbound_store(raw=_mail(1), source="pipe", mailbox=mailbox)
        inbound_process(inbound_id=first.pk)
        first.refresh_from_db()
        _resolve_long_ago(first.ticket, rep, settings)
        tag = f"Re: Help [{first.ticket.reference}]"
        stored = [
            inbound_store(raw=_mail(number, subject=tag), source="pipe", mailbox=mailbox)[0]
            for number in (2, 3)
        ]
    # Each worker waits for the other (up to a second) before it opens a ticket: without the
    # lock both have looked for a new ticket and found none; with it, the second waits there.
    barrier = threading.Barrier(2, timeout=1)
    real_open = reopening.ticket_open

    def open_together(**kwargs):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        return real_open(**kwargs)

    def work(inbound_id):
        from django.db import connection

        try:
            inbound_process(inbound_id=inbound_id)
        finally:
            connection.close()

    with mock.patch.object(reopening, "ticket_open", open_together):
        workers = [threading.Thread(target=work, args=(row.pk,)) for row in stored]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
    assert Ticket.objects.count() == 2  # the old one and one new
    statuses = sorted(
        InboundMessage.objects.filter(pk__in=[r.pk for r in stored]).values_list(
            "status", flat=True
        )
    )
    assert statuses == ["appended", "ticket"]


def test_mail_a_group_relays_from_our_address_is_its_authors(ingest, contact):
    """Our support@ is a Google Group: for a sender whose domain asks for DMARC, the group
    rewrites From to itself and names the author in X-Original-From and Reply-To."""
    relayed = ingest(
        _mail(
            1,
            sender="'Ada Customer' via Support <support@example.com>",
            Reply_To="Ada Customer <ada@customer.example>",
            X_Original_From="Ada Customer <ada@customer.example>",
            subject="Printer on fire",
        )
    )
    assert relayed.status == "ticket", relayed.reason
    assert relayed.sender == "ada@customer.example"
    assert relayed.ticket.contact == contact
    assert Message.objects.get(inbound=relayed).sender == "ada@customer.example"
    # Our own mail, with nobody else named, is still our own come back.
    assert ingest(_mail(2, sender="support@example.com")).status == "loop"


def test_a_rep_saying_which_of_two_contacts_shares_an_address_is_remembered(ingest, customer, rep):
    other = CustomerFactory(name="Other Co")
    sam = ContactFactory(customer=customer, name="Sam A", email="sam@shared.example")
    ContactFactory(customer=other, name="Sam B", email="Sam@Shared.example")
    first = ingest(_mail(1, sender="sam@shared.example"))
    assert first.status == "triage"
    assert "several contacts" in first.reason
    assert services.inbound_assign(inbound=first, actor=rep, contact=sam) == "ticket"
    second = ingest(_mail(2, subject="Another question", sender="sam@shared.example"))
    assert second.status == "ticket", second.reason
    assert second.ticket.contact == sam


def test_a_message_whose_rows_the_database_refuses_is_quarantined_not_retried_for_ever(
    mailbox, contact, monkeypatch
):
    from django.db import DataError, OperationalError

    inbound, _ = inbound_store(raw=_mail(1), source="pipe", mailbox=mailbox)

    def refused(*args, **kwargs):
        raise DataError("value too long for type character varying(300)")

    monkeypatch.setattr(processing, "ticket_open", refused)
    assert inbound_process(inbound_id=inbound.pk) == "quarantined"
    inbound.refresh_from_db()
    assert "value too long" in inbound.reason
    assert not Ticket.objects.exists()

    # The database unreachable for a moment is another matter: the task tries again.
    again, _ = inbound_store(raw=_mail(2), source="pipe", mailbox=mailbox)

    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(processing, "ticket_open", unreachable)
    with pytest.raises(OperationalError):
        inbound_process(inbound_id=again.pk)
    again.refresh_from_db()
    assert again.status == "pending"


def test_saying_who_a_sender_is_leaves_the_rest_of_their_mail_to_the_worker(ingest, rep):
    """The rep's transaction processes only the message they looked at: the sender's other
    waiting mail is processed by tasks of its own, each in a transaction of its own, so the
    rep's holds none of their tickets' locks (and waits for none of them)."""
    waiting = [
        ingest(_mail(number, subject=f"Question {number}", sender="pat@new.example"))
        for number in range(4)
    ]
    assert {inbound.status for inbound in waiting} == {"triage"}
    status = services.inbound_assign(
        inbound=waiting[0], actor=rep, customer=CustomerFactory(), contact_name="Pat"
    )
    assert status == "ticket"
    assert Ticket.objects.count() == 1
    rest = InboundMessage.objects.filter(pk__in=[inbound.pk for inbound in waiting[1:]])
    assert set(rest.values_list("status", flat=True)) == {"pending"}


@pytest.mark.django_db(transaction=True)
def test_the_rest_of_a_senders_waiting_mail_becomes_tickets_through_the_worker(
    live_worker, mailbox, rep
):
    from tests.conftest import wait_for

    waiting = []
    for number in range(3):
        # The last answers the one before it (its own "forgot the attachment"): processed
        # in the order they came, it finds the ticket that one opened.
        headers = {"In_Reply_To": "<holds-1@customer.example>"} if number == 2 else {}
        inbound, _ = inbound_store(
            raw=_mail(number, subject=f"Question {number}", sender="pat@new.example", **headers),
            source="pipe",
            mailbox=mailbox,
        )
        inbound_process(inbound_id=inbound.pk)  # or the task the store enqueued: either
        inbound.refresh_from_db()
        waiting.append(inbound)
    assert {inbound.status for inbound in waiting} == {"triage"}
    services.inbound_assign(
        inbound=waiting[0], actor=rep, customer=CustomerFactory(), contact_name="Pat"
    )
    wait_for(lambda: not InboundMessage.objects.filter(status__in=["triage", "pending"]).exists())
    statuses = dict(InboundMessage.objects.values_list("pk", "status"))
    assert [statuses[inbound.pk] for inbound in waiting] == ["ticket", "ticket", "appended"]
    tickets = Ticket.objects.filter(
        pk__in=InboundMessage.objects.values("ticket_id")
    ).select_related("contact")
    assert len(tickets) == 2
    assert {ticket.contact.name for ticket in tickets} == {"Pat"}
