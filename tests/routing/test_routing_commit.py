"""Routing commits without waiting for the disk (``ROUTING_ASYNCHRONOUS_COMMIT``), for its own
transaction only: what follows on the connection commits synchronously again."""

import pytest
from django.db import connection, transaction

from routing import services as routing_services
from tests.factories import CustomerFactory
from tickets import outbox
from tickets.models import TicketEvent
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db(transaction=True)


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.fixture
def seen_while_routing(monkeypatch):
    """The connection's synchronous_commit once the event is claimed, as routing runs."""
    seen = []
    load = routing_services.load_rule_set

    def recording(key=None):
        seen.append(_synchronous_commit())
        return load(key)

    monkeypatch.setattr(routing_services, "load_rule_set", recording)
    return seen


@pytest.mark.parametrize(("asynchronous", "expected"), [(True, "off"), (False, "on")])
def test_the_routing_transaction_alone_commits_asynchronously(
    settings, seen_while_routing, asynchronous, expected
):
    settings.ROUTING_ASYNCHRONOUS_COMMIT = asynchronous
    ticket = ticket_create(customer=CustomerFactory(), kind="call", channel="phone", subject="Hi")
    outbox.event_dispatch(event_id=TicketEvent.objects.get(ticket=ticket).pk)
    assert seen_while_routing == [expected]
    assert _synchronous_commit() == "on"


def test_routing_inside_a_callers_transaction_leaves_its_commit_synchronous(
    settings, seen_while_routing
):
    settings.ROUTING_ASYNCHRONOUS_COMMIT = True
    ticket = ticket_create(customer=CustomerFactory(), kind="call", channel="phone", subject="Hi")
    event = TicketEvent.objects.get(ticket=ticket)
    with transaction.atomic():
        routing_services.route_event(event)
        assert _synchronous_commit() == "on"
    assert seen_while_routing == ["on"]
