"""Replies sent through a provider's backend (django-anymail; here its test backend, which
reports a message id as a provider does): the id it gave the message is kept, so the
customer's answer quoting it is threaded (test_round_trip)."""

import pytest

from conversations.replies import reply_send
from deliveries.models import EmailDelivery
from deliveries.services import email_deliver


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"TEST_SAMPLE_SETTING": "x"}


def test_the_providers_id_for_a_reply_is_kept(ingest, contact, rep):
    from django.core import mail

    first = ingest(
        b"From: ada@customer.example\r\nTo: support@example.com\r\nSubject: Help\r\n"
        b"Message-ID: <p1@customer.example>\r\n\r\nHelp me.\r\n"
    )
    reply = reply_send(ticket=first.ticket, author=rep, body="Here is how.")
    assert email_deliver(delivery_id=reply.delivery_id) == "sent"
    delivery = EmailDelivery.objects.get(pk=reply.delivery_id)
    sent = mail.outbox[-1]
    assert delivery.provider_message_id
    assert delivery.provider_message_id == str(sent.anymail_status.message_id)
    assert sent.extra_headers["Reply-To"].startswith("support+T")
