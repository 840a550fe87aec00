"""A new event sends a dispatch task only when none is queued: the task routes what waits, so a
steady stream of events costs a task per batch, not one per event (OUTBOX_COALESCE_SECONDS).

The flag of a queued task lives in Redis (the ``task-flags`` cache); a task lowers it before it
looks for waiting events, so an event committed after that sends a task of its own, and one
committed before it is found by that look.
"""

from unittest import mock

import psycopg2
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import caches
from django.db import connection, transaction
from django.test import TestCase

from helpdesk.queue import started
from routing import services as routing_services
from routing.models import RoutingRun
from tests.conftest import wait_for
from tests.factories import CustomerFactory
from tickets import outbox
from tickets.models import TicketEvent
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_task_queued():
    started(outbox.DISPATCH_QUEUED)
    yield
    started(outbox.DISPATCH_QUEUED)


@pytest.fixture
def sent():
    """The event ids dispatch tasks were sent for (to nobody: no worker runs here)."""
    with mock.patch("tickets.tasks.dispatch_event.delay") as delay:
        yield lambda: [call.args[0] for call in delay.call_args_list]


def create(count: int = 1) -> list[int]:
    """``count`` tickets, each committed as its own request would; their events' ids."""
    customer = CustomerFactory()
    ids = []
    for index in range(count):
        with TestCase.captureOnCommitCallbacks(execute=True):
            ticket = ticket_create(
                customer=customer, kind="call", channel="phone", subject=f"Call {index}"
            )
        ids.append(TicketEvent.objects.get(ticket=ticket).pk)
    return ids


def test_events_written_while_a_task_is_queued_send_none(sent):
    first, *_ = create(3)
    assert sent() == [first]


def test_once_the_task_has_started_the_next_event_sends_one_again(sent):
    (first,) = create()
    outbox.event_dispatch(event_id=first)  # lowers the flag before it looks
    (second,) = create()
    assert sent() == [first, second]


def test_without_coalescing_every_event_sends_its_task(settings, sent):
    settings.OUTBOX_COALESCE_SECONDS = 0
    ids = create(3)
    assert sent() == ids


def test_a_task_that_could_not_be_sent_leaves_no_flag_up(sent):
    with mock.patch("tickets.tasks.dispatch_event.delay", side_effect=OSError("broker down")):
        create()
    second, third = create(2)
    assert sent() == [second]  # the broker is back: the next event sends again


def test_without_the_shared_cache_every_event_sends_its_task(sent):
    flags = caches["task-flags"]
    with mock.patch.object(flags, "add", side_effect=ConnectionError("redis down")):
        ids = create(2)
    assert sent() == ids


def test_the_task_routes_every_event_that_counted_on_it_in_rounds(settings, sent, starter_rules):
    settings.OUTBOX_DISPATCH_BATCH = 3
    first, *others = create(8)
    assert sent() == [first]
    outbox.event_dispatch(event_id=first)
    assert not TicketEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert RoutingRun.objects.count() == 8


def test_after_its_rounds_the_task_hands_the_rest_to_a_new_one(settings, sent, starter_rules):
    settings.OUTBOX_DISPATCH_BATCH = 3
    settings.OUTBOX_DISPATCH_ROUNDS = 2
    ids = create(8)
    with TestCase.captureOnCommitCallbacks(execute=True):
        outbox.event_dispatch(event_id=ids[0])
    waiting = list(TicketEvent.objects.filter(dispatched_at__isnull=True).values_list("pk"))
    assert [pk for (pk,) in waiting] == ids[6:]
    assert sent()[-1] == ids[6]  # the oldest still waiting


def test_a_task_whose_event_was_routed_still_routes_the_others(sent, starter_rules):
    first, second, third = create(3)
    outbox.event_dispatch_one(event_id=first)  # routed by another task meanwhile
    assert outbox.event_dispatch(event_id=first) is False
    assert not TicketEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_without_coalescing_a_duplicate_task_leaves_the_others_to_their_own(settings, sent):
    settings.OUTBOX_COALESCE_SECONDS = 0
    first, second = create(2)
    outbox.event_dispatch_one(event_id=first)
    assert outbox.event_dispatch(event_id=first) is False
    assert TicketEvent.objects.get(pk=second).dispatched_at is None


@pytest.mark.django_db(transaction=True)
def test_events_past_what_other_workers_hold_are_still_routed(settings, sent, starter_rules):
    """Other workers' batches hold the oldest events, the whole window of candidates a task
    looks at beside its own event: it goes on past them."""
    settings.OUTBOX_DISPATCH_BATCH = 3
    ids = create(10)
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:  # a transaction, held open: the rows stay locked
            cursor.execute(
                "SELECT id FROM tickets_ticketevent WHERE id = ANY(%s) FOR UPDATE", [ids[:6]]
            )
            outbox.event_dispatch(event_id=ids[6])
        waiting = TicketEvent.objects.filter(dispatched_at__isnull=True)
        assert sorted(waiting.values_list("pk", flat=True)) == ids[:6]
    finally:
        other.close()


def test_a_failing_event_is_counted_once_and_the_others_are_routed(
    settings, sent, starter_rules, monkeypatch
):
    settings.OUTBOX_DISPATCH_BATCH = 3
    first, *others = create(7)
    evaluate = routing_services._evaluate

    def failing(event, *args, **kwargs):
        if event.pk == first:
            raise RuntimeError("rule bug")
        return evaluate(event, *args, **kwargs)

    monkeypatch.setattr(routing_services, "_evaluate", failing)
    with pytest.raises(RuntimeError, match="rule bug"):
        outbox.event_dispatch(event_id=first)
    waiting = TicketEvent.objects.filter(dispatched_at__isnull=True)
    assert list(waiting.values_list("pk", "dispatch_failures")) == [(first, 1)]


def test_a_task_out_of_time_hands_what_waits_to_a_new_one(settings, sent, monkeypatch):
    settings.OUTBOX_DISPATCH_BATCH = 3
    first, second, *_ = create(5)
    batch = outbox._dispatch_batch

    def out_of_time(event, now):
        if event is None:
            raise SoftTimeLimitExceeded()
        return batch(event, now)

    monkeypatch.setattr(outbox, "_dispatch_batch", out_of_time)
    with pytest.raises(SoftTimeLimitExceeded), TestCase.captureOnCommitCallbacks(execute=True):
        outbox.event_dispatch(event_id=first)
    waiting = TicketEvent.objects.filter(dispatched_at__isnull=True).order_by("id")
    assert sent()[-1] == waiting.first().pk


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_events_is_routed_once_each_by_fewer_tasks(live_worker, starter_rules):
    from celery.signals import before_task_publish

    published = []

    def count(sender=None, **kwargs):
        if sender == "tickets.tasks.dispatch_event":
            published.append(1)

    before_task_publish.connect(count, weak=False)
    try:
        customer = CustomerFactory()
        with transaction.atomic():  # an import: forty events commit at once
            for index in range(40):
                ticket_create(
                    customer=customer, kind="call", channel="phone", subject=f"Call {index}"
                )
    finally:
        before_task_publish.disconnect(count)
    wait_for(lambda: not TicketEvent.objects.filter(dispatched_at__isnull=True).exists())
    assert RoutingRun.objects.count() == 40
    assert len(published) < 20, f"{len(published)} dispatch tasks sent for 40 events"
