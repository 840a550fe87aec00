"""A backlog is routed in batches: one dispatch task routes the events waiting with its own, of
different tickets, in one transaction, with what routing each alone would have done.

As in test_routing_query_count.py: bugs for a customer with unpaid invoices, under the starter
rules, notify engineering and finance, each with a member emailed per new item.
"""

import threading
import time

import psycopg2
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Department, Membership
from deliveries.models import EmailDelivery
from queues.models import Notification
from routing import services as routing_services
from routing.engine.ruleset import load_rule_set
from routing.models import RoutingRun, RuleMatch
from tests.factories import CustomerFactory, InvoiceFactory, UserFactory
from tickets import outbox
from tickets.models import TicketEvent, TimelineEntry
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alerted_departments(starter_rules):
    for slug in ("engineering", "finance"):
        department = Department.objects.get(slug=slug)
        Membership.objects.create(user=UserFactory(username=f"{slug}-now"), department=department)
    load_rule_set()


def bugs(count: int, *, customer=None) -> list[int]:
    """``count`` bug tickets; the events waiting (theirs and any before), oldest first."""
    if customer is None:
        customer = CustomerFactory()
        InvoiceFactory(customer=customer)  # unpaid
    for index in range(count):
        ticket_create(customer=customer, kind="bug", channel="phone", subject=f"Crash {index}")
    return list(
        TicketEvent.objects.filter(dispatched_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )


def routed_effects(event_ids: list[int]) -> list[tuple]:
    """What routing did for each event, without the ids rows were given."""
    effects = []
    for event_id in event_ids:
        run = RoutingRun.objects.get(event_id=event_id)
        matches = RuleMatch.objects.filter(event_id=event_id).order_by("rule__order")
        event = TicketEvent.objects.get(pk=event_id)
        timeline = TimelineEntry.objects.filter(
            ticket_id=event.ticket_id, kind=TimelineEntry.Kind.ROUTING
        )
        effects.append(
            (
                run.rules_evaluated,
                run.rules_fired,
                [evaluation[2:] for evaluation in run.evaluations],
                {k: v for k, v in run.facts.items() if k not in ("age_hours",)},
                [(m.rule.name, m.conditions, [a["done"] for a in m.actions]) for m in matches],
                sorted(
                    Notification.objects.filter(event_id=event_id).values_list(
                        "department__slug", flat=True
                    )
                ),
                sorted(
                    EmailDelivery.objects.filter(ticket_id=event.ticket_id).values_list(
                        "recipient", flat=True
                    )
                ),
                [entry.body for entry in timeline],
            )
        )
    return effects


def test_a_backlog_is_routed_in_one_batch_with_the_statements_of_about_one_event(
    alerted_departments, settings
):
    settings.OUTBOX_DISPATCH_BATCH = 50
    ids = bugs(30)
    with CaptureQueriesContext(connection) as queries:
        assert outbox.event_dispatch(event_id=ids[0]) is True
    statements = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert not TicketEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert RoutingRun.objects.count() == 30
    assert Notification.objects.count() == 60
    assert EmailDelivery.objects.count() == 60
    assert RuleMatch.objects.count() == 60
    listing = "\n".join(statements)
    assert not [sql for sql in statements if "SAVEPOINT" in sql.split('"', 1)[0]], listing
    # One event alone takes 12; the 29 others add the locking read of the batch.
    assert len(statements) <= 14, listing

    # Their own tasks come later and find them done, one query each.
    for event_id in ids[1:]:
        with CaptureQueriesContext(connection) as queries:
            assert outbox.event_dispatch(event_id=event_id) is False
        assert len(queries.captured_queries) == 1
    assert RoutingRun.objects.count() == 30


def test_a_batch_does_what_routing_each_event_alone_does(alerted_departments, settings):
    customer = CustomerFactory()
    InvoiceFactory(customer=customer)
    settings.OUTBOX_DISPATCH_BATCH = 1
    alone = bugs(3, customer=customer)
    for event_id in alone:
        outbox.event_dispatch(event_id=event_id)
    settings.OUTBOX_DISPATCH_BATCH = 50
    together = [pk for pk in bugs(3, customer=customer) if pk not in alone]
    outbox.event_dispatch(event_id=together[0])
    assert RoutingRun.objects.filter(event_id__in=together).count() == 3
    assert routed_effects(together) == routed_effects(alone)
    assert routed_effects(alone)[0][1] == 2  # two rules fired: not an empty comparison


def test_the_batch_size_is_kept_and_the_rest_waits(alerted_departments, settings):
    settings.OUTBOX_DISPATCH_BATCH = 4
    settings.OUTBOX_DISPATCH_ROUNDS = 1  # one batch a task: the rest waits for the next task
    ids = bugs(10)
    outbox.event_dispatch(event_id=ids[5])
    dispatched = set(
        TicketEvent.objects.filter(dispatched_at__isnull=False).values_list("id", flat=True)
    )
    # Its own event first, then the oldest waiting.
    assert dispatched == {ids[5], ids[0], ids[1], ids[2]}


def test_events_of_one_ticket_are_not_routed_together(
    alerted_departments, settings, rep, monkeypatch
):
    settings.OUTBOX_DISPATCH_BATCH = 50
    batches = []
    route_events = routing_services.route_events

    def recorded(events):
        batches.append([event.pk for event in events])
        return route_events(events)

    monkeypatch.setitem(outbox._batch_handlers, routing_services.route_event, recorded)
    [first] = bugs(1)
    ticket = TicketEvent.objects.get(pk=first).ticket
    ticket_update(ticket=ticket, actor=rep, priority="urgent")
    later = TicketEvent.objects.get(ticket=ticket, type=TicketEvent.Type.UPDATED).pk
    [other] = [pk for pk in bugs(1) if pk not in (first, later)]
    assert outbox.event_dispatch(event_id=first) is True
    # The other ticket's event went with the first; the later one of the same ticket was
    # locked with them, so this task routed it too, alone, after the batch.
    assert batches == [[first, other]]
    assert not TicketEvent.objects.filter(dispatched_at__isnull=True).exists()
    runs = list(RoutingRun.objects.order_by("pk").values_list("event_id", flat=True))
    assert runs == [first, other, later]


@pytest.fixture
def poisoned(monkeypatch):
    """Makes routing fail for the events whose ids are put in the returned set (with
    ``poisoned.error``, a RuntimeError unless set otherwise)."""

    class Poison(set):
        error: BaseException | None = None

    poison = Poison()
    evaluate = routing_services._evaluate

    def failing(event, *args, **kwargs):
        if event.pk in poison:
            raise poison.error or RuntimeError(f"rule bug on event {event.pk}")
        return evaluate(event, *args, **kwargs)

    monkeypatch.setattr(routing_services, "_evaluate", failing)
    return poison


def test_one_failing_event_fails_alone_and_the_rest_of_its_batch_is_routed(
    alerted_departments, settings, poisoned
):
    settings.OUTBOX_DISPATCH_BATCH = 50
    ids = bugs(5)
    poisoned.add(ids[2])
    assert outbox.event_dispatch(event_id=ids[0]) is True
    pending = TicketEvent.objects.filter(dispatched_at__isnull=True)
    assert list(pending.values_list("id", flat=True)) == [ids[2]]
    failed = pending.get()
    assert failed.dispatch_failures == 1
    assert failed.next_dispatch_at is not None  # backed off
    assert RoutingRun.objects.count() == 4
    assert not RoutingRun.objects.filter(event_id=ids[2]).exists()  # nothing half done
    assert Notification.objects.filter(event_id=ids[2]).count() == 0
    assert Notification.objects.count() == 8


def test_a_failing_first_event_raises_for_its_task_after_the_others_are_routed(
    alerted_departments, settings, poisoned
):
    settings.OUTBOX_DISPATCH_BATCH = 50
    ids = bugs(3)
    poisoned.add(ids[0])
    with pytest.raises(RuntimeError, match="rule bug"):
        outbox.event_dispatch(event_id=ids[0])
    assert list(
        TicketEvent.objects.filter(dispatched_at__isnull=True).values_list("id", flat=True)
    ) == [ids[0]]
    assert TicketEvent.objects.get(pk=ids[0]).dispatch_failures == 1


def test_an_event_in_another_workers_batch_is_left_to_it_without_waiting(
    alerted_departments, settings
):
    """Another worker's batch holds the event's row (``FOR UPDATE``): this task neither waits
    for it nor routes it, and routes the free events it found waiting instead."""
    settings.OUTBOX_DISPATCH_BATCH = 50
    ids = bugs(3)
    params = connection.get_connection_params()
    other = psycopg2.connect(**params)
    with connection.cursor() as cursor:
        # Were the row waited for, the test fails at this timeout rather than hanging.
        cursor.execute("SET lock_timeout = '5s'")
    try:
        with other.cursor() as cursor:
            table = TicketEvent._meta.db_table
            cursor.execute(f'SELECT id FROM "{table}" WHERE id = %s FOR UPDATE', [ids[1]])  # noqa: S608
            started = time.monotonic()
            assert outbox.event_dispatch(event_id=ids[1]) is False
            assert time.monotonic() - started < 2
        other.rollback()
    finally:
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert set(
        TicketEvent.objects.filter(dispatched_at__isnull=True).values_list("id", flat=True)
    ) == {ids[1]}
    assert outbox.event_dispatch(event_id=ids[1]) is True
    assert RoutingRun.objects.count() == 3


def test_two_workers_routing_one_backlog_route_each_event_once(alerted_departments, settings):
    settings.OUTBOX_DISPATCH_BATCH = 5
    ids = bugs(40)
    errors = []

    def work(my_ids):
        try:
            for event_id in my_ids:
                outbox.event_dispatch(event_id=event_id)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(ids[i::2],)) for i in (0, 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    assert not TicketEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert RoutingRun.objects.count() == 40
    assert Notification.objects.count() == 80
    assert EmailDelivery.objects.count() == 80


def test_the_soft_time_limit_in_a_batch_stops_the_task_and_leaves_the_rest_to_the_sweep(
    alerted_departments, settings, poisoned
):
    settings.OUTBOX_DISPATCH_BATCH = 50
    ids = bugs(3)
    poisoned.add(ids[1])
    poisoned.error = SoftTimeLimitExceeded()
    with pytest.raises(SoftTimeLimitExceeded):
        outbox.event_dispatch(event_id=ids[0])
    # Nothing routed one by one after the time was up; nothing counted as a failure either.
    assert TicketEvent.objects.filter(dispatched_at__isnull=True).count() == 3
    assert not RoutingRun.objects.exists()
    assert set(TicketEvent.objects.values_list("dispatch_failures", flat=True)) == {0}
