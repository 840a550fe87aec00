"""Scratch probes (review). Deleted afterwards."""
from datetime import timedelta

import pytest
from django.core import mail as djmail
from django.utils import timezone

from conversations.models import InboundMessage, Message
from conversations.replies import reply_send
from deliveries.models import EmailDelivery
from deliveries.services import email_deliver
from tests.conversations.conftest import customer_email
from tests.factories import ContactFactory
from tickets.models import Ticket
from tickets.services import ticket_create


@pytest.fixture(autouse=True)
def _locmem(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = str(tmp_path)


def test_subject_with_newline_reply_never_sent(db, customer, contact, rep):
    ticket = ticket_create(customer=customer, contact=contact, kind="call", channel="phone",
                           subject="Printer\nBcc: evil@attacker.example")
    reply = reply_send(ticket=ticket, author=rep, body="Hello")
    status = email_deliver(delivery_id=reply.delivery_id)
    d = EmailDelivery.objects.get(pk=reply.delivery_id)
    print("STATUS", status, d.reason, repr(d.subject))
    assert status == "sent"


def test_api_subject_newline(api, customer, contact):
    r = api.post("/api/tickets/", {"customer": customer.pk, "contact": contact.pk, "kind": "call",
                                   "channel": "phone", "subject": "a\r\nBcc: x@y.z"}, format="json")
    print(r.status_code, r.content[:300])
