"""helpdesk.prepared: a prepared query gives what its queryset gives, from SQL built once."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Contact, Customer, Invoice
from helpdesk.prepared import MAX_ITEMS, PreparedQuery
from tests.factories import ContactFactory, CustomerFactory, InvoiceFactory
from tickets.models import TicketEvent
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


def _values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _events(ticket_ids):
    return TicketEvent.objects.select_related("ticket").filter(ticket_id__in=ticket_ids)


def _event_with(event_id, now):
    return (
        TicketEvent.objects.select_related("ticket", "ticket__customer")
        .filter(pk=event_id)
        .annotate(
            later=RawSQL(
                "tickets_ticketevent.created_at > %s",
                (connection.ops.adapt_datetimefield_value(now),),
            )
        )
        .order_by()
    )


@pytest.fixture
def tickets():
    customer = CustomerFactory()
    return [
        ticket_create(customer=customer, kind="bug", channel="api", subject=f"Crash {n}")
        for n in range(3)
    ]


def test_models_with_their_relations_and_annotations_as_the_queryset_gives_them(
    tickets, django_assert_num_queries
):
    query = PreparedQuery(_event_with)
    event = TicketEvent.objects.get(ticket=tickets[1])
    before = timezone.now() - timedelta(days=1)
    for now in (before, before, timezone.now() + timedelta(days=1)):
        [got] = query(event.pk, now)
        [expected] = _event_with(event.pk, now)
        assert _values(got) == _values(expected)
        assert got.snapshot == expected.snapshot
        assert isinstance(got.snapshot, dict)
        with django_assert_num_queries(0):  # loaded with it, as select_related loads them
            assert _values(got.ticket) == _values(expected.ticket)
            assert _values(got.ticket.customer) == _values(expected.ticket.customer)
        assert got.later is expected.later
        assert got._state.adding is False
        assert got._state.db == "default"
    assert query.is_prepared(event.pk, before)
    other = TicketEvent.objects.get(ticket=tickets[2])
    assert [e.pk for e in query(other.pk, before)] == [other.pk]
    assert query(-1, before) == []


def test_the_second_call_builds_no_sql(tickets, django_assert_num_queries):
    query = PreparedQuery(lambda ids: _events(ids).order_by("pk"))
    ids = [t.pk for t in tickets]
    query(ids)
    compiled = []
    original = connection.ops.compiler

    def counting(name):
        compiled.append(name)
        return original(name)

    connection.ops.compiler = counting
    try:
        with django_assert_num_queries(1):
            got = query(ids[::-1])
    finally:
        del connection.ops.compiler
    assert compiled == []
    assert [e.ticket_id for e in got] == sorted(ids)


def test_lists_of_each_length_and_sets(tickets):
    query = PreparedQuery(lambda ids: _events(ids).order_by("pk"))
    ids = [t.pk for t in tickets]
    for wanted in ([ids[0]], ids[:2], ids, set(ids[1:]), tuple(ids)):
        assert [e.pk for e in query(wanted)] == [e.pk for e in _events(wanted).order_by("pk")]
    assert query.is_prepared(ids[:2])
    assert query.is_prepared(set(ids[1:]))


def test_what_cannot_be_prepared_runs_as_built(tickets):
    query = PreparedQuery(lambda ids: _events(ids).order_by("pk"))
    assert query([]) == []
    many = [t.pk for t in tickets] + list(range(-MAX_ITEMS, 0))
    assert [e.ticket_id for e in query(many)] == [t.pk for t in tickets]
    assert not query.is_prepared(many)
    assert [e.ticket_id for e in query([None, tickets[0].pk])] == [tickets[0].pk]
    if connection.vendor == "postgresql":  # (Django's own lookup refuses it on SQLite)
        assert query([2**64]) == []  # out of the column's range: no rows, as Django answers
        assert not query.is_prepared([2**64])
    one = PreparedQuery(lambda pk: TicketEvent.objects.filter(pk=pk))
    assert one(2**64) == []
    assert not one.is_prepared(2**64)


def test_values_list_rows_dates_and_decimals():
    customer, other = CustomerFactory(), CustomerFactory()
    today = timezone.localdate()
    paid = InvoiceFactory(customer=customer, paid_on=today - timedelta(days=3))
    unpaid = InvoiceFactory(customer=customer)
    InvoiceFactory(customer=other)

    def build(ids, since):
        return (
            Invoice.objects.filter(customer_id__in=ids)
            .filter(Q(paid_on__isnull=True) | Q(paid_on__gt=since))
            .order_by("pk")
            .values_list("pk", "amount", "due_on")
        )

    query = PreparedQuery(build)
    for since in (today - timedelta(days=10), today - timedelta(days=1)):
        assert query([customer.pk], since) == list(build([customer.pk], since))
    assert [row[0] for row in query([customer.pk], today)] == [unpaid.pk]
    assert [row[0] for row in query([customer.pk], today - timedelta(days=5))] == [
        paid.pk,
        unpaid.pk,
    ]
    flat = PreparedQuery(lambda pk: Customer.objects.filter(pk=pk).values_list("name", flat=True))
    assert flat(other.pk) == [other.name] == flat(other.pk)


def test_a_string_compared_as_given_is_prepared_and_one_transformed_is_not():
    contact = ContactFactory(email="Ann.Lee@Example.com")
    exact = PreparedQuery(lambda email: Contact.objects.filter(email__iexact=email))
    assert [c.pk for c in exact("ann.lee@example.COM")] == [contact.pk]
    assert [c.pk for c in exact("ann_lee@example.com")] == []
    assert exact.is_prepared("x") is (connection.vendor == "postgresql")
    containing = PreparedQuery(lambda part: Contact.objects.filter(email__icontains=part))
    assert [c.pk for c in containing("lee@")] == [contact.pk]
    assert [c.pk for c in containing("nobody")] == []
    assert not containing.is_prepared("lee@")


@pytest.mark.django_db(transaction=True)
def test_locking_outside_a_transaction_is_refused_as_the_queryset_refuses_it(tickets):
    query = PreparedQuery(lambda pk: TicketEvent.objects.select_for_update().filter(pk=pk))
    event = TicketEvent.objects.get(ticket=tickets[0])
    for _ in range(2):  # built, then prepared
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                assert [e.pk for e in query(event.pk)] == [event.pk]
            locks = connection.features.has_select_for_update
            assert ("FOR UPDATE" in queries[0]["sql"]) is locks
    assert query.is_prepared(event.pk)
    if not connection.features.has_select_for_update:
        assert [e.pk for e in query(event.pk)] == [event.pk]  # as Django runs it there
        return
    with pytest.raises(transaction.TransactionManagementError):
        query(event.pk)


def test_the_api_create_looks_its_customer_up_prepared_and_refuses_an_unknown_one():
    from tickets.api import serializers

    customer = CustomerFactory()
    body = {"kind": "bug", "subject": "Crash", "customer": customer.pk}
    for _ in range(2):  # each request validates with a copy of the declared fields
        valid = serializers.TicketCreateSerializer(data=body)
        assert valid.is_valid(), valid.errors
        assert valid.validated_data["customer"] == customer
    assert serializers._CUSTOMER.is_prepared(customer.pk)
    for unknown in (customer.pk + 1000, str(customer.pk + 1000), 2**70):
        invalid = serializers.TicketCreateSerializer(data={**body, "customer": unknown})
        assert not invalid.is_valid()
        assert invalid.errors["customer"][0].code == "does_not_exist"


def test_an_argument_also_used_transformed_is_not_prepared():
    """``a`` reaches the SQL as given (``email=``) and as ``%a%`` (``icontains``): a query
    that froze the second at its stand-in would find nothing."""
    contact = ContactFactory(name="Bob Stone", email="b.stone@example.com")
    query = PreparedQuery(
        lambda a: Contact.objects.filter(Q(email=a) | Q(name__icontains=a)).order_by("pk")
    )
    for _ in range(2):
        assert [c.pk for c in query("bob")] == [contact.pk]
    assert not query.is_prepared("bob")
    lowered = PreparedQuery(lambda a: Contact.objects.filter(email=a.lower()))
    assert [c.pk for c in lowered("B.Stone@Example.com")] == [contact.pk]
    assert not lowered.is_prepared("x")


def test_a_stand_in_the_field_refuses_leaves_it_to_the_queryset(tickets):
    by_pk = PreparedQuery(lambda pk: Customer.objects.filter(pk=pk))
    customer = tickets[0].customer
    for _ in range(2):
        assert by_pk(str(customer.pk)) == [customer]  # Django takes digits for an id
    assert not by_pk.is_prepared(str(customer.pk))
    # A 32-bit column: the stand-in is out of its range, which Django answers by itself.
    event = TicketEvent.objects.get(ticket=tickets[0])
    failures = PreparedQuery(
        lambda n: TicketEvent.objects.filter(ticket=tickets[0], dispatch_failures=n)
    )
    for _ in range(2):
        assert [e.pk for e in failures(0)] == [event.pk]
    assert failures(3) == []


def test_a_naive_datetime_is_left_to_django(tickets, settings):
    settings.TIME_ZONE = "America/New_York"
    event = TicketEvent.objects.get(ticket=tickets[0])
    naive = timezone.make_naive(event.created_at + timedelta(hours=1))
    query = PreparedQuery(lambda at: TicketEvent.objects.filter(pk=event.pk, created_at__lt=at))
    with pytest.warns(RuntimeWarning):
        assert [e.pk for e in query(naive)] == [event.pk]
    assert not query.is_prepared(naive)


def test_routing_an_event_reads_its_event_and_facts_prepared(tickets):
    """A call site that stopped reaching its prepared SQL would show only as slower routing."""
    from accounts import selectors
    from queues import facts
    from tickets import outbox

    # The first dispatch routes all three events together, as a batch.
    outbox.event_dispatch(event_id=TicketEvent.objects.get(ticket=tickets[0]).pk)
    assert not TicketEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert outbox._EVENT_AND_OTHERS_WAITING.is_prepared(1, timezone.now())
    assert selectors._CUSTOMERS.is_prepared({1})  # the three tickets' one customer
    assert selectors._INVOICES_UNPAID_SINCE.is_prepared({1}, timezone.localdate())
    assert facts._OPEN_FOLLOWUPS_DUE.is_prepared({1, 2, 3})
