"""What we write to the customer reaches the right person, once, on one thread: one-line
subjects, what a reply answers, addresses that bounce after an email was queued, and the
acknowledgement's limits (per sender, never to no-reply addresses, kept apart from the web
form's confirmation, and sent for a ticket opened by a reply on an old thread)."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import replies
from conversations.intake import inbound_store
from conversations.models import InboundMessage, Message
from conversations.processing import inbound_process
from conversations.replies import reply_send
from conversations.web import web_request_store
from deliveries.models import EmailDelivery
from deliveries.services import email_deliver
from tests.conversations.conftest import customer_email
from tests.factories import ContactFactory
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_update


@pytest.fixture(autouse=True)
def _locmem(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = str(tmp_path)


def _request(number: int, *, subject="Help", sender="ada@customer.example", **headers) -> bytes:
    mail = customer_email(
        subject=subject,
        message_id=f"<answer-{number}@customer.example>",
        text="Hello.",
        sender=sender,
    )
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    return bytes(mail)


def _acknowledgements():
    return EmailDelivery.objects.filter(key__startswith="ack:")


def test_a_line_break_in_a_subject_is_refused_at_the_api(api, customer, contact):
    body = {"customer": customer.pk, "kind": "call", "subject": "Printer\r\nBcc: x@example.com"}
    response = api.post("/api/v1/tickets/", body, format="json")
    assert response.status_code == 400
    assert "one line" in str(response.json()["subject"])
    assert not Ticket.objects.exists()


def test_subjects_written_on_several_lines_are_folded_and_their_tickets_edited(
    db, customer, contact, rep
):
    import importlib

    from django.apps import apps

    ticket = ticket_create(
        customer=customer, contact=contact, kind="call", channel="phone", subject="x"
    )
    Ticket.objects.filter(pk=ticket.pk).update(subject="Printer\r\n on fire")
    fold = importlib.import_module("tickets.migrations.0024_fold_multiline_subjects").fold
    fold(apps, None)
    ticket.refresh_from_db()
    assert ticket.subject == "Printer on fire"
    ticket_update(ticket=ticket, actor=rep, priority="high")  # no longer refused on its subject


def test_a_subject_that_holds_a_line_break_still_sends_on_one_line(db, customer, contact, rep):
    ticket = ticket_create(
        customer=customer, contact=contact, kind="call", channel="phone", subject="x"
    )
    # Written before subjects were checked (or by a bulk update that checks nothing).
    Ticket.objects.filter(pk=ticket.pk).update(subject="Printer\nBcc: evil@example.com")
    ticket.refresh_from_db()
    reply = reply_send(ticket=ticket, author=rep, body="Hello")
    assert email_deliver(delivery_id=reply.delivery_id) == "sent"
    assert EmailDelivery.objects.get(pk=reply.delivery_id).subject == (
        f"Re: Printer Bcc: evil@example.com [{ticket.reference}]"
    )


def test_a_reply_answers_the_customer_not_their_out_of_office_nor_a_stranger(ingest, contact, rep):
    first = ingest(_request(1))
    acknowledgement = Message.objects.get(ticket=first.ticket, direction="out")
    on_thread = {"In_Reply_To": f"<{acknowledgement.message_id}>"}
    assert (
        ingest(_request(2, subject="Re: Help", Auto_Submitted="auto-replied", **on_thread)).status
        == "appended"
    )
    assert (
        ingest(
            _request(3, subject="Re: Help", sender="someone@elsewhere.example", **on_thread)
        ).status
        == "appended"
    )
    reply = reply_send(ticket=first.ticket, author=rep, body="Answer")
    assert reply.in_reply_to == "answer-1@customer.example"


def test_replies_on_a_ticket_opened_by_phone_are_one_thread(db, customer, contact, rep):
    ticket = ticket_create(
        customer=customer, contact=contact, kind="call", channel="phone", subject="Call"
    )
    one = reply_send(ticket=ticket, author=rep, body="One")
    two = reply_send(ticket=ticket, author=rep, body="Two")
    assert one.in_reply_to == ""
    assert two.in_reply_to == one.message_id
    assert one.message_id in two.references.split()


def test_an_email_waiting_when_its_address_bounces_is_not_sent(ingest, contact, rep):
    first = ingest(_request(1))
    acknowledgement = Message.objects.get(ticket=first.ticket, direction="out")
    reply = reply_send(ticket=first.ticket, author=rep, body="Answer")  # queued, not sent yet
    other = ContactFactory(customer=contact.customer, email="bob@customer.example")
    elsewhere = ticket_create(
        customer=contact.customer, contact=other, kind="call", channel="phone", subject="Hi"
    )
    unrelated = reply_send(ticket=elsewhere, author=rep, body="For Bob")
    # The acknowledgement bounces: the address is gone.
    bounce = _dsn(contact.email, original_id=acknowledgement.message_id)
    assert ingest(bounce).status == "bounce"
    assert email_deliver(delivery_id=reply.delivery_id) == "not due"
    delivery = EmailDelivery.objects.get(pk=reply.delivery_id)
    assert delivery.status == "suppressed"
    assert delivery.reason.startswith("The address bounces: 5.1.1")
    assert delivery.sent_at is None
    assert email_deliver(delivery_id=unrelated.delivery_id) == "sent"


def _dsn(recipient: str, *, original_id: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.customer.example\r\nTo: support@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn@mx.customer.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.customer.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{original_id}>\r\n"
        "\r\n--B--\r\n"
    ).encode()


def test_a_web_confirmation_does_not_use_up_the_acknowledgement_of_an_email(ingest, contact):
    web = web_request_store(
        name="Ada", email=contact.email, subject="From the web", description="x", form={}
    )
    inbound_process(inbound_id=web.pk)
    assert EmailDelivery.objects.filter(key__startswith="confirm:").count() == 1
    emailed = ingest(_request(1, subject="Another problem"))
    assert _acknowledgements().filter(ticket=emailed.ticket).count() == 1


def test_a_no_reply_address_gets_no_acknowledgement(ingest, customer):
    alerts = ContactFactory(customer=customer, name="Alerts", email="noreply@alerts.example")
    inbound = ingest(_request(1, subject="Disk full on srv1", sender=alerts.email))
    assert inbound.status == "ticket"
    assert not _acknowledgements().exists()


def test_a_ticket_opened_by_a_reply_on_an_old_thread_is_acknowledged(
    ingest, contact, rep, settings
):
    first = ingest(_request(1))
    ticket_update(
        ticket=first.ticket, actor=rep, status="resolved", root_cause="other", resolution="ok"
    )
    long_ago = timezone.now() - timedelta(days=settings.EMAIL_REOPEN_DAYS + 1)
    Ticket.objects.filter(pk=first.ticket_id).update(resolved_at=long_ago)
    EmailDelivery.objects.update(created_at=long_ago)  # the first acknowledgement, long ago
    again = ingest(_request(2, subject=f"Re: Help [{first.ticket.reference}]"))
    assert again.status == "ticket"
    assert again.ticket_id != first.ticket_id
    [acknowledgement] = _acknowledgements().filter(ticket=again.ticket)
    assert again.ticket.reference in acknowledgement.subject


@pytest.mark.django_db(transaction=True)
def test_two_requests_of_one_sender_processed_at_once_are_acknowledged_once(
    mailbox, contact, monkeypatch, settings, tmp_path
):
    stored = [
        inbound_store(raw=_request(n, subject=f"Problem {n}"), source="pipe", mailbox=mailbox)[0]
        for n in (1, 2)
    ]
    # Each worker waits for the other (up to a second) after it looked for an acknowledgement:
    # without the lock both looked and found none; with it, the second waits for the first.
    barrier = threading.Barrier(2, timeout=1)
    looked = replies._ACKNOWLEDGED_SINCE

    def look_together(*args):
        found = looked(*args)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        return found

    monkeypatch.setattr(replies, "_ACKNOWLEDGED_SINCE", look_together)

    def work(inbound_id):
        from django.db import connection

        try:
            inbound_process(inbound_id=inbound_id)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(row.pk,)) for row in stored]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert list(InboundMessage.objects.values_list("status", flat=True)) == ["ticket", "ticket"]
    assert _acknowledgements().count() == 1


def test_the_same_reply_posted_twice_is_sent_once(client, ingest, contact, rep):
    first = ingest(_request(1))
    client.force_login(rep)
    page = client.get(f"/tickets/{first.ticket_id}/").content.decode()
    token = page.split('name="sent_as" value="')[1].split('"')[0]
    for _ in range(2):  # a double click, or the browser sending the form again
        response = client.post(
            f"/tickets/{first.ticket_id}/reply/", {"body": "Same answer", "sent_as": token}
        )
        assert response.status_code == 302
    replies_sent = EmailDelivery.objects.filter(key__startswith="message:")
    assert replies_sent.count() == 1
    assert Message.objects.filter(ticket=first.ticket, text="Same answer").count() == 1
    assert token in replies_sent.get().key
    # The form edited after going back in the browser, and sent with the same token: a reply
    # of its own, not dropped.
    client.post(f"/tickets/{first.ticket_id}/reply/", {"body": "Edited answer", "sent_as": token})
    assert replies_sent.count() == 2
    assert Message.objects.filter(ticket=first.ticket, text="Edited answer").count() == 1
    # The composer shown again carries a new token: the next reply is another email.
    page = client.get(f"/tickets/{first.ticket_id}/").content.decode()
    again = page.split('name="sent_as" value="')[1].split('"')[0]
    assert again != token
    client.post(f"/tickets/{first.ticket_id}/reply/", {"body": "Another", "sent_as": again})
    assert replies_sent.count() == 3


def test_a_rep_replying_to_an_address_that_bounces_is_told_it_was_not_sent(
    client, ingest, contact, rep
):
    first = ingest(_request(1))
    contact.email_bouncing_since = timezone.now()
    contact.email_bounce_reason = "550 5.1.1 User unknown"
    contact.save()
    client.force_login(rep)
    post = {"body": "Hello", "sent_as": "0123456789abcdef"}
    for _ in range(2):  # and the same again (a double click): the same warning
        response = client.post(f"/tickets/{first.ticket_id}/reply/", post, follow=True)
        page = response.content.decode()
        assert f"Not sent: mail to {contact.email} bounces" in page
        assert "Reply sent to" not in page
    assert EmailDelivery.objects.get(key__startswith="message:").status == "suppressed"


@pytest.mark.parametrize(
    ("refusal", "gone"),
    [
        ("550 5.1.1 <ada@customer.example>: Recipient address rejected: User unknown", True),
        ("550 5.2.1 Mailbox disabled", True),
        # A refusal by policy (our relay's, say) says nothing of the address.
        ("550 5.7.1 Relaying denied", False),
        # Nor one of our own sender address, which Postfix gives at the recipient: by its code
        # (5.1.7 and 5.1.8 are the sender's), or by its words whatever the code.
        ("550 5.1.8 Domain not found", False),
        ("550 5.1.1 <support@example.com>: Sender address rejected: User unknown", False),
    ],
)
def test_a_recipient_our_server_refuses_for_good_is_marked_bouncing(
    ingest, contact, rep, smtp_server, refusal, gone
):
    first = ingest(_request(1))  # its acknowledgement waits, unsent
    smtp_server.refuse[contact.email] = refusal
    reply = reply_send(ticket=first.ticket, author=rep, body="Answer")
    assert email_deliver(delivery_id=reply.delivery_id) == "failed"
    contact.refresh_from_db()
    acknowledgement = _acknowledgements().get()
    if gone:
        assert contact.email_bouncing_since is not None
        assert refusal.split(" ", 1)[0] in contact.email_bounce_reason
        assert acknowledgement.status == "suppressed"
    else:
        assert contact.email_bouncing_since is None
        assert acknowledgement.status == "pending"


@pytest.mark.parametrize(("asked", "acknowledged"), [("All", 0), ("OOF, AutoReply", 0), ("DR", 1)])
def test_a_sender_asking_for_no_automatic_answer_gets_no_acknowledgement(
    ingest, contact, asked, acknowledged
):
    inbound = ingest(_request(1, X_Auto_Response_Suppress=asked))
    assert inbound.status == "ticket"
    assert _acknowledgements().count() == acknowledged


def test_a_message_id_with_non_ascii_letters_is_left_out_of_our_threading_headers(
    ingest, contact, rep
):
    """RFC 5322 message ids are ASCII; one that is not would be sent encoded (RFC 2047), which
    no mail client matches. The reply threads by the rest (References, Reply-To, the tag)."""
    from django.core import mail as outbox

    raw = (
        "From: ada@customer.example\r\nTo: support@example.com\r\nSubject: Caf\u00e9\r\n"
        "Message-ID: <caf\u00e9-1@customer.example>\r\n"
        "References: <earlier@customer.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour.\r\n"
    ).encode()
    inbound = ingest(raw)
    assert inbound.status == "ticket", inbound.reason
    reply = reply_send(ticket=inbound.ticket, author=rep, body="Answer")
    outbox.outbox.clear()
    assert email_deliver(delivery_id=reply.delivery_id) == "sent"
    [sent] = outbox.outbox
    message = sent.message()
    assert "=?" not in str(message["References"] or "")
    assert "In-Reply-To" not in message or "=?" not in str(message["In-Reply-To"])
    assert "<earlier@customer.example>" in str(message["References"])


def test_a_reply_can_leave_the_ticket_waiting_for_the_customer_whose_answer_opens_it(
    ingest, contact, rep
):
    first = ingest(_request(1, subject="Which cable?"))
    ticket = first.ticket
    reply_send(ticket=ticket, author=rep, body="Which model is it?", then_status="pending")
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    reply = Message.objects.get(ticket=ticket, direction="out", author=rep)
    # An out-of-office answering us is not the customer's answer.
    away = _request(2, subject="Re: Which cable?", In_Reply_To=f"<{reply.message_id}>")
    away = away.replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1)
    assert ingest(away).status == "appended"
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    answer = _request(3, subject="Re: Which cable?", In_Reply_To=f"<{reply.message_id}>")
    assert ingest(answer).status == "appended"
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_a_reply_whose_status_change_is_refused_is_not_sent(ingest, contact, rep):
    from django.core.exceptions import ValidationError

    ticket = ingest(_request(1)).ticket
    with pytest.raises(ValidationError):
        reply_send(ticket=ticket, author=rep, body="Done.", then_status="resolved")
    assert not Message.objects.filter(ticket=ticket, author=rep).exists()
    assert not EmailDelivery.objects.filter(key__startswith="message:").exists()
