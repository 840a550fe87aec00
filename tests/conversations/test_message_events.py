"""Rules hear of a customer's message through the ticket's ``ticket.message_received`` event,
and can tell who wrote it and whether a person did; a reply reopens a recently resolved
ticket, or opens a new one linked to an old one."""

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.utils import timezone

from queues.models import Notification
from routing.services import rule_create
from tests.conftest import dispatch_pending
from tickets.models import Ticket, TicketEvent
from tickets.services import ticket_update


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def _mail(number: int, *, subject: str, **headers) -> bytes:
    mail = EmailMessage()
    mail["From"] = "ada@customer.example"
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<event-{number}@customer.example>"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(f"Message {number}.")
    return bytes(mail)


def _resolve(ticket, rep) -> None:
    ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="product_defect", resolution="ok"
    )


def test_a_rule_reacts_to_a_customers_reply_but_not_to_an_automatic_one(ingest, contact):
    rule_create(
        name="Customer replied",
        trigger="ticket.message_received",
        conditions={
            "all": [
                {"field": "message.sender", "operator": "is", "value": "contact"},
                {"field": "message.is_automatic", "operator": "is", "value": False},
            ]
        },
        actions=[{"type": "notify_department", "department": "support"}],
    )
    first = ingest(_mail(1, subject="Help"))
    tag = f"Re: Help [{first.ticket.reference}]"
    ingest(_mail(2, subject=tag))
    ingest(_mail(3, subject=tag, Auto_Submitted="auto-replied"))
    dispatch_pending()
    events = TicketEvent.objects.filter(type="ticket.message_received").order_by("pk")
    assert [event.changes["message"]["is_automatic"] for event in events] == [False, True]
    assert [item.event_id for item in Notification.objects.all()] == [events[0].pk]


def test_a_reply_reopens_a_recently_resolved_ticket(ingest, contact, rep):
    first = ingest(_mail(1, subject="Help"))
    _resolve(first.ticket, rep)
    again = ingest(_mail(2, subject=f"Re: Help [{first.ticket.reference}]"))
    assert again.status == "appended"
    assert Ticket.objects.get(pk=first.ticket_id).status == "open"


def test_a_reply_to_a_long_closed_ticket_opens_a_new_linked_one(ingest, contact, rep, settings):
    first = ingest(_mail(1, subject="Help"))
    _resolve(first.ticket, rep)
    long_ago = timezone.now() - timedelta(days=settings.EMAIL_REOPEN_DAYS + 1)
    Ticket.objects.filter(pk=first.ticket_id).update(resolved_at=long_ago)
    again = ingest(_mail(2, subject=f"Re: Help [{first.ticket.reference}]"))
    assert again.status == "ticket"
    new = Ticket.objects.get(pk=again.ticket_id)
    assert new.pk != first.ticket_id
    assert Ticket.objects.get(pk=first.ticket_id).status == "resolved"
    assert first.ticket in new.related.all()
    assert new.messages.get().text_new == "Message 2."


def test_an_automatic_reply_reopens_nothing(ingest, contact, rep):
    first = ingest(_mail(1, subject="Help"))
    _resolve(first.ticket, rep)
    ingest(
        _mail(2, subject=f"Out of office: Re: Help [{first.ticket.reference}]", X_Autoreply="yes")
    )
    assert Ticket.objects.get(pk=first.ticket_id).status == "resolved"


def test_a_second_reply_on_a_long_closed_thread_joins_the_ticket_the_first_opened(
    ingest, contact, rep, settings
):
    first = ingest(_mail(1, subject="Help"))
    _resolve(first.ticket, rep)
    long_ago = timezone.now() - timedelta(days=settings.EMAIL_REOPEN_DAYS + 1)
    Ticket.objects.filter(pk=first.ticket_id).update(resolved_at=long_ago)
    tag = f"Re: Help [{first.ticket.reference}]"
    opened = ingest(_mail(2, subject=tag))
    again = ingest(_mail(3, subject=tag))
    assert again.status == "appended"
    assert again.ticket_id == opened.ticket_id
    assert Ticket.objects.count() == 2


def test_a_stranger_on_the_thread_reopens_nothing(ingest, contact, rep):
    first = ingest(_mail(1, subject="Help"))
    _resolve(first.ticket, rep)
    mail = EmailMessage()
    mail["From"] = "someone@elsewhere.example"
    mail["To"] = "support@example.com"
    mail["Subject"] = "Re: Help"
    mail["Message-ID"] = "<stranger-reply@elsewhere.example>"
    mail["In-Reply-To"] = "<event-1@customer.example>"
    mail.set_content("Me too.")
    assert ingest(bytes(mail)).status == "appended"
    assert Ticket.objects.get(pk=first.ticket_id).status == "resolved"
