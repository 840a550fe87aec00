"""The outbox sweep: grace period, batch size, claims, failure counting and the failure cap."""

from datetime import timedelta
from unittest import mock

import pytest
from django.test import TestCase
from django.utils import timezone

from tests.factories import CustomerFactory
from tickets import outbox
from tickets.models import TicketEvent
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    """The event ids the sweep enqueued, captured where the task is sent."""
    with mock.patch("tickets.tasks.dispatch_event.delay") as delay:
        yield lambda: [call.args[0] for call in delay.call_args_list]


def sweep() -> int:
    # The sweep enqueues on commit; run those callbacks as a real commit would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return outbox.events_sweep()


def events(count, *, age_seconds=60):
    customer = CustomerFactory()
    for index in range(count):
        ticket_create(customer=customer, kind="call", channel="phone", subject=f"Call {index}")
    TicketEvent.objects.update(created_at=timezone.now() - timedelta(seconds=age_seconds))
    return list(TicketEvent.objects.order_by("id").values_list("id", flat=True))


def test_events_younger_than_the_grace_period_are_left_to_their_own_task(settings, sent):
    settings.OUTBOX_REDISPATCH_AFTER_SECONDS = 30
    events(2, age_seconds=5)
    before = len(sent())
    assert sweep() == 0
    assert len(sent()) == before


def test_sweep_enqueues_oldest_first_in_batches(settings, sent):
    settings.OUTBOX_REDISPATCH_AFTER_SECONDS = 10
    settings.OUTBOX_SWEEP_BATCH = 2
    ids = events(3)
    created = len(sent())  # the tasks enqueued on commit by ticket_create
    assert sweep() == 2
    assert sent()[created:] == ids[:2]
    assert sweep() == 1
    assert sent()[created + 2 :] == ids[2:]


def test_claimed_events_are_not_enqueued_again_on_every_sweep(settings, sent):
    settings.OUTBOX_REDISPATCH_AFTER_SECONDS = 10
    (event_id,) = events(1, age_seconds=120)
    assert sweep() == 1
    assert sweep() == 0  # still waiting in the queue: not sent twice
    claimed_until = TicketEvent.objects.get(pk=event_id).next_dispatch_at
    # Claimed for as long as the event is old: two minutes.
    assert timedelta(seconds=110) < claimed_until - timezone.now() <= timedelta(seconds=120)
    TicketEvent.objects.update(next_dispatch_at=timezone.now() - timedelta(seconds=1))
    assert sweep() == 1  # the message was lost after all: enqueued again


def test_failures_are_counted_and_backed_off_and_capped(settings, sent, monkeypatch):
    settings.OUTBOX_REDISPATCH_AFTER_SECONDS = 10

    def broken(event):
        raise RuntimeError("subscriber bug")

    monkeypatch.setattr(outbox, "_subscribers", [broken])
    (event_id,) = events(1)
    for failures in (1, 2, 3):
        with pytest.raises(RuntimeError):
            outbox.event_dispatch(event_id=event_id)
        event = TicketEvent.objects.get(pk=event_id)
        assert event.dispatch_failures == failures
        backoff = event.next_dispatch_at - timezone.now()
        expected = 10 * 2 ** (failures - 1)
        assert timedelta(seconds=expected - 2) < backoff <= timedelta(seconds=expected)
    assert sweep() == 0  # backing off

    TicketEvent.objects.update(
        dispatch_failures=outbox.MAX_DISPATCH_FAILURES, next_dispatch_at=None
    )
    with mock.patch.object(outbox.logger, "error") as error:
        assert sweep() == 0
    error.assert_called_once()


def test_a_duplicate_delivery_is_not_a_failure(sent):
    (event_id,) = events(1)
    assert outbox.event_dispatch(event_id=event_id) is True
    assert outbox.event_dispatch(event_id=event_id) is False
    event = TicketEvent.objects.get(pk=event_id)
    assert event.dispatch_failures == 0
    assert event.dispatched_at is not None


def test_embedded_mode_runs_the_periodic_sweeps_in_process():
    from django.core.management import call_command

    from helpdesk.celery import app

    (event_id,) = events(1)
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            call_command("run_periodic_tasks", "--once")
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved
    assert TicketEvent.objects.get(pk=event_id).dispatched_at is not None


def test_periodic_tasks_command_refuses_to_double_celery_beat():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="celery -A helpdesk beat"):
        call_command("run_periodic_tasks", "--once")


@pytest.mark.parametrize(
    "other",
    [
        {"dispatched_at": "now"},
        {"dispatch_failures": outbox.MAX_DISPATCH_FAILURES},
        {"next_dispatch_at": "later"},
        {"next_dispatch_at": "earlier"},
        {"next_dispatch_at": "now"},
        {"dispatch_failures": 1},
        {"dispatch_failures": outbox.MAX_DISPATCH_FAILURES - 1},
        {},
        None,
    ],
)
def test_the_dispatch_knows_others_are_due_as_the_batches_find_them(other):
    """The dispatch's annotation (SQL written once) and ``_due`` (the ORM's) agree on every
    state another event can be in."""
    first, second = events(2)
    now = timezone.now()
    if other is None:
        TicketEvent.objects.filter(pk=second).delete()
    else:
        times = {"now": now, "later": now + timedelta(minutes=5), "earlier": now - timedelta(1)}
        TicketEvent.objects.filter(pk=second).update(
            **{name: times.get(value, value) for name, value in other.items()}
        )
    annotated = (
        TicketEvent.objects.filter(pk=first)
        .annotate(others=outbox._others_due(now, first))
        .values_list("others", flat=True)
        .get()
    )
    expected = outbox._due(now).exclude(pk=first).exists()
    assert annotated is expected
    not_due = other is None or "dispatched_at" in other or other.get("next_dispatch_at") == "later"
    not_due = not_due or other.get("dispatch_failures") == outbox.MAX_DISPATCH_FAILURES
    assert expected is not not_due
