"""The reads made for every message received run SQL built before (helpdesk.prepared): a call
site that stopped reaching it would show only as a slower intake."""

import pytest
from django.db import connection
from django.utils import timezone

from conversations import holds, processing, replies, selectors, stored
from conversations.intake import inbound_store
from conversations.models import InboundMessage
from tests.conversations.conftest import customer_email

pytestmark = pytest.mark.django_db


def test_a_message_piped_in_reads_its_row_sender_and_mailbox_prepared(
    mailbox, contact, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    for number in range(2):
        mail = customer_email(subject="Printer", message_id=f"<p{number}@customer.example>")
        mail.set_content("It is on fire.")
        # As the pipe stores it: to no mailbox, so the acknowledgement goes out of the default.
        inbound, _ = inbound_store(raw=bytes(mail), source="pipe")
        assert processing.inbound_process(inbound_id=inbound.pk) == InboundMessage.Status.TICKET
    assert stored._LOCKED.is_prepared(1)
    # (On SQLite ``iexact`` escapes its value, and the lookup runs as built.)
    on_postgresql = connection.vendor == "postgresql"
    assert selectors._CONTACTS_FOR_ADDRESS.is_prepared("a@b", "a@b") is on_postgresql
    assert replies._FIRST_ACTIVE_MAILBOX.is_prepared()
    # The flood count and the acknowledgement throttle of each new request.
    assert holds._TICKETS_OPENED_SINCE.is_prepared("a@b", timezone.now(), 1)
    assert replies._ACKNOWLEDGED_SINCE.is_prepared("a@b", timezone.now()) is on_postgresql
