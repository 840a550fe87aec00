"""Who a sender is: found by the contact's address (any case) or one a rep remembered, and
found through indexes, however many contacts there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Contact
from conversations.models import SenderAddress
from conversations.selectors import contacts_for_address
from tests.conversations.conftest import plan_of
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_sender_is_found_by_their_address_in_any_case_and_by_a_remembered_one():
    customer = CustomerFactory()
    ada = ContactFactory(customer=customer, email="Ada@Customer.example")
    grace = ContactFactory(customer=customer, email="grace@customer.example")
    SenderAddress.objects.create(email="ada.private@home.example", contact=ada)
    SenderAddress.objects.create(email="grace@customer.example", contact=grace)  # both ways
    assert contacts_for_address("ada@CUSTOMER.example") == [ada]
    assert contacts_for_address("Ada.Private@home.example") == [ada]
    assert contacts_for_address("grace@customer.example") == [grace]
    assert contacts_for_address("nobody@customer.example") == []
    assert contacts_for_address("") == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_the_lookup_reads_no_contact_it_does_not_return():
    """An OR of the address and a subquery made PostgreSQL read every contact; the lookup must
    go through the index on the upper-cased address instead."""
    customer = CustomerFactory()
    Contact.objects.bulk_create(
        Contact(customer=customer, name=f"Contact {n}", email=f"c{n}@customer.example")
        for n in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_contact")
    with CaptureQueriesContext(connection) as captured:
        assert len(contacts_for_address("C42@customer.example")) == 1
    [query] = captured.captured_queries
    plan = plan_of(query["sql"])
    assert "contact_email_upper_idx" in plan, plan
    assert "Seq Scan on accounts_contact" not in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_whether_a_sender_was_acknowledged_lately_is_an_index_lookup(ingest, contact):
    """The acknowledgement goes out at most once an hour per sender: asking whether one did
    must not read every email ever sent (it read the whole throttle index)."""
    from datetime import timedelta

    from django.utils import timezone

    from deliveries.models import EmailDelivery
    from tests.conversations.conftest import customer_email

    now = timezone.now()
    rows = EmailDelivery.objects.bulk_create(
        EmailDelivery(key=f"ack:{n}@example", recipient=f"c{n % 900}@customer.example")
        for n in range(5000)
    )
    for hours, row in enumerate(rows):
        row.created_at = now - timedelta(hours=hours % 1000)
    EmailDelivery.objects.bulk_update(rows, ["created_at"])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE routing_emaildelivery")
    with CaptureQueriesContext(connection) as captured:
        ingest(
            bytes(customer_email(subject="Printer on fire", message_id="<fire@customer.example>"))
        )
    [query] = [q["sql"] for q in captured.captured_queries if "LIKE 'ack:%'" in q["sql"]]
    plan = plan_of(query)
    assert "Index Cond" in plan, plan
    assert "email_recipient_recent_idx" in plan, plan
