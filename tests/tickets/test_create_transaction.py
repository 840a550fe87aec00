"""A ticket is created all or nothing, in one transaction: the API's, which reads what it
validates and writes the rows in it, or the service's own. Nested in a caller's transaction the
service adds no savepoint; what it refuses, it refuses before writing, so the caller's
transaction stays usable."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.factories import ContactFactory
from tickets import services
from tickets.models import Ticket, TicketEvent, TimelineEntry

pytestmark = pytest.mark.django_db


def _fail(**kwargs):
    raise RuntimeError("the event could not be written")


def test_nested_in_a_transaction_the_service_adds_no_savepoint(customer):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        services.ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
    assert not [q["sql"] for q in queries if "SAVEPOINT" in q["sql"]]
    assert Ticket.objects.count() == 1


def test_a_refusal_leaves_the_callers_transaction_usable(customer):
    other = ContactFactory()  # of another customer
    with transaction.atomic():
        with pytest.raises(ValidationError) as refused:
            services.ticket_create(
                customer=customer, contact=other, kind="bug", channel="phone", subject="Crash"
            )
        assert "contact" in refused.value.message_dict
        assert Ticket.objects.count() == 0  # still usable: no TransactionManagementError


def test_a_failed_write_stores_nothing_of_the_ticket(customer, monkeypatch):
    monkeypatch.setattr(services, "event_record", _fail)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
    assert not Ticket.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_an_api_create_that_fails_midway_stores_nothing(api, customer, monkeypatch):
    monkeypatch.setattr(services, "event_record", _fail)
    with pytest.raises(RuntimeError):
        api.post("/api/v1/tickets/", {"kind": "bug", "customer": customer.pk, "subject": "Crash"})
    assert not Ticket.objects.exists()
    assert not TimelineEntry.objects.exists()
    assert not TicketEvent.objects.exists()
