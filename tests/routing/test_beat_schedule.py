"""Celery beat's schedule, run as beat runs it: each entry's task sent by name to the real broker
and executed by a real worker. Each piece of work below is done only by one entry, so removing
an entry (or pointing it at the wrong task) leaves that work undone and fails the test."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deliveries.models import EmailDelivery
from helpdesk import queue
from helpdesk.celery import app as celery_app
from queues.models import Notification
from routing.services import rule_create
from tests.conftest import wait_for
from tickets.models import Ticket, TicketEvent
from tickets.services import ticket_create

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def run_beat_schedule_once() -> None:
    for entry in celery_app.conf.beat_schedule.values():
        celery_app.send_task(entry["task"])


def test_every_periodic_job_is_done_by_the_schedule(
    monkeypatch, starter_rules, customer, live_worker, smtp_server
):
    # An event whose message was lost (the broker was down at commit): only the outbox sweep
    # routes it.
    with monkeypatch.context() as lost:
        lost.setattr(queue, "_send", lambda task, args: None)
        lost_ticket = ticket_create(
            customer=customer, kind="rfe", channel="email", subject="Export to CSV"
        )
    assert TicketEvent.objects.filter(ticket=lost_ticket, dispatched_at__isnull=True).exists()

    # A queue item past its response target: only the queue sweep escalates it.
    bug = ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash on save")
    item = wait_for(lambda: Notification.objects.filter(ticket=bug).first())
    Notification.objects.filter(pk=item.pk).update(due_at=timezone.now() - timedelta(hours=1))

    # An email whose retry is due: only the deliveries sweep sends it.
    retry = EmailDelivery.objects.create(
        recipient="erin@example.com",
        subject="Retry me",
        body="A retried email.",
        status=EmailDelivery.Status.RETRYING,
        attempts=1,
        next_attempt_at=timezone.now() - timedelta(minutes=1),
    )

    # A ticket untouched for a week with a time-based rule watching for that: only the timers
    # sweep fires it.
    rule_create(
        name="Quiet for a week",
        trigger="time",
        conditions={
            "all": [{"field": "working_hours_since_created", "operator": "gte", "value": 40}]
        },
        actions=[{"type": "notify_department", "department": "shipping"}],
    )
    quiet = ticket_create(
        customer=customer, kind="call", channel="web", subject="Where is my order?"
    )
    week_ago = timezone.now() - timedelta(days=8)
    Ticket.objects.filter(pk=quiet.pk).update(
        created_at=week_ago, updated_at=week_ago, status_changed_at=week_ago
    )

    run_beat_schedule_once()

    wait_for(lambda: Notification.objects.filter(ticket=lost_ticket).exists())
    wait_for(lambda: Notification.objects.filter(pk=item.pk, escalated_at__isnull=False).exists())
    wait_for(lambda: EmailDelivery.objects.filter(pk=retry.pk, status="sent").exists())
    wait_for(
        lambda: Notification.objects.filter(ticket=quiet, department__slug="shipping").exists()
    )
    assert any(message["Subject"] == "Retry me" for message in smtp_server.messages)


def test_the_embedded_stand_in_runs_the_same_schedule(settings):
    # scripts/run's run_periodic_tasks reads settings.CELERY_BEAT_SCHEDULE; beat reads the app's.
    assert celery_app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
