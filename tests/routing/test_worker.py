"""The whole path through a real Celery worker on the real Redis broker.

Tickets are created through the API; the outbox enqueues their events on commit; a worker
thread consumes them from Redis and routes them into department queues.
"""

import time

import pytest
from django.db import connections
from kombu import pools
from rest_framework.test import APIClient

from helpdesk.celery import app as celery_app
from queues.models import FollowUpTask, Notification
from routing.models import RoutingRun
from tests.conftest import wait_for, worker_thread
from tests.factories import CustomerFactory, InvoiceFactory, UserFactory
from tickets.models import TicketEvent
from tickets.tasks import dispatch_event, sweep_undispatched_events

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def client(rep):
    client = APIClient()
    client.force_authenticate(rep)
    return client


def notified_departments(client, ticket_id) -> set[str]:
    # Queues are seen by their members and admins; an admin sees them all.
    admin = APIClient()
    admin.force_authenticate(UserFactory(username="queue-admin", is_superuser=True))
    response = admin.get("/api/v1/notifications/", {"ticket": ticket_id})
    assert response.status_code == 200
    return {item["department"] for item in response.json()["results"]}


def test_api_ticket_is_routed_by_the_worker(client, starter_rules, live_worker, salesperson):
    customer = CustomerFactory(salesperson=salesperson)
    InvoiceFactory(customer=customer)  # unpaid
    response = client.post(
        "/api/v1/tickets/",
        {"kind": "bug", "channel": "phone", "customer": customer.pk, "subject": "Crash on save"},
    )
    assert response.status_code == 201, response.content
    ticket_id = response.json()["id"]

    wait_for(lambda: notified_departments(client, ticket_id) == {"engineering", "finance"})

    response = client.patch(
        f"/api/v1/tickets/{ticket_id}/",
        {"status": "resolved", "root_cause": "product_defect", "resolution": "Patched"},
    )
    assert response.status_code == 200
    task = wait_for(lambda: FollowUpTask.objects.filter(ticket_id=ticket_id).first())
    assert task.salesperson == salesperson
    client.force_authenticate(task.salesperson)
    response = client.get("/api/v1/followups/", {"ticket": ticket_id})
    assert [item["id"] for item in response.json()["results"]] == [task.pk]
    assert not TicketEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_redelivered_event_creates_nothing_new(client, starter_rules, live_worker, customer):
    response = client.post(
        "/api/v1/tickets/", {"kind": "rfe", "customer": customer.pk, "subject": "Dark mode"}
    )
    ticket_id = response.json()["id"]
    event = wait_for(
        lambda: TicketEvent.objects.filter(ticket_id=ticket_id, dispatched_at__isnull=False).first()
    )
    # As if the message were delivered again after a worker died before acknowledging it.
    TicketEvent.objects.filter(pk=event.pk).update(dispatched_at=None)
    dispatch_event.delay(event.pk)
    dispatch_event.delay(event.pk)
    wait_for(lambda: TicketEvent.objects.filter(pk=event.pk, dispatched_at__isnull=False).exists())
    time.sleep(0.3)  # let the second message be consumed too
    assert Notification.objects.filter(ticket_id=ticket_id).count() == 2
    assert RoutingRun.objects.filter(event=event).count() == 1
    event.refresh_from_db()
    # The redeliveries found the event routed (or dispatched): duplicates, not failures.
    assert event.dispatch_failures == 0


@pytest.fixture
def broker_down():
    """Point the Celery app at a closed port for the duration of the test: a real refusal."""
    real_url = celery_app.conf.broker_url

    def use_broker(url):
        # Drop pooled connections (and the producer pool built on them) so the next publish
        # connects to ``url``.
        pools.reset()  # kombu keeps connection pools in a registry shared by the process
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        # Remote control (the test worker's ping) keeps its own handle on the producer pool.
        celery_app.control.mailbox.__dict__.pop("producer_pool", None)
        celery_app.conf.broker_url = url

    def restore():
        use_broker(real_url)

    scheme = real_url.split("://", 1)[0]
    use_broker(f"{scheme}://127.0.0.1:1/" if scheme.startswith("amqp") else "redis://127.0.0.1:1/0")

    yield restore
    if celery_app.conf.broker_url != real_url:
        restore()


def test_ticket_accepted_while_broker_is_down_is_routed_by_the_sweep(
    client, starter_rules, customer, broker_down
):
    started = time.monotonic()
    response = client.post(
        "/api/v1/tickets/", {"kind": "bug", "customer": customer.pk, "subject": "Broker down"}
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert elapsed < 5, f"a down broker must not hold the request ({elapsed:.1f}s)"
    event = TicketEvent.objects.get(ticket_id=response.json()["id"])
    assert event.dispatched_at is None
    assert not Notification.objects.exists()

    broker_down()  # the broker is back; the periodic sweep runs on the worker
    celery_app.control.purge()
    with worker_thread():
        sweep_undispatched_events.delay()
        wait_for(lambda: Notification.objects.filter(ticket=event.ticket).exists())
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert set(Notification.objects.values_list("department__slug", flat=True)) == {"engineering"}


def test_sweep_is_scheduled_on_beat(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["outbox-sweep"]
    assert schedule["task"] == sweep_undispatched_events.name
    assert celery_app.conf.beat_schedule["outbox-sweep"]["schedule"] == float(
        settings.OUTBOX_SWEEP_INTERVAL_SECONDS
    )


def test_tasks_acknowledge_late_so_a_killed_worker_redelivers():
    assert dispatch_event.acks_late is True
    assert celery_app.conf.task_reject_on_worker_lost is True
    assert celery_app.conf.worker_prefetch_multiplier == 1


def teardown_module():
    connections.close_all()
