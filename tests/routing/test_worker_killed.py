"""A worker process killed with SIGKILL in the middle of routing an event: nothing it did is
kept, the broker hands the unacknowledged message to the next worker, and the event is routed
once. Real `celery worker` processes on the real broker (Redis, or RabbitMQ with
CELERY_BROKER_URL), against the test database."""

import signal
import subprocess
import time

import psycopg2
import pytest
from django.db import connection

from helpdesk.celery import app as celery_app
from queues.models import Notification
from routing.models import RoutingRun
from tests.conftest import purge_tasks, wait_for, worker_process
from tickets.models import TicketEvent
from tickets.services import ticket_create

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# The shortest the settings allow: how long Redis keeps a message handed to a worker that
# never acknowledged it before giving it to another. (RabbitMQ gives it back as soon as the
# killed worker's connection drops.)
VISIBILITY_TIMEOUT = 30


def start_worker() -> subprocess.Popen:
    return worker_process(
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        # Time limits stay below the visibility timeout, as the settings insist.
        CELERY_TASK_SOFT_TIME_LIMIT="15",
        CELERY_TASK_TIME_LIMIT="20",
    )


def blocked_on_a_lock(dsn: dict) -> bool:
    with psycopg2.connect(**dsn) as probe, probe.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = "
            "'Lock' AND query ILIKE %s",
            [connection.settings_dict["NAME"], "%routing_notification%"],
        )
        return cursor.fetchone()[0] > 0


def test_an_event_whose_worker_is_killed_mid_routing_is_routed_once(starter_rules, customer):
    purge_tasks()
    if celery_app.conf.broker_url.startswith("redis"):
        # Messages left unacknowledged by earlier runs would be handed out too; start from
        # none. (RabbitMQ put them back in the queue, just purged, when their worker went.)
        with celery_app.connection_for_write() as conn:
            conn.default_channel.client.delete("unacked", "unacked_index", "unacked_mutex")
    db = connection.settings_dict
    dsn = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    # Hold the queue table so the worker stops inside its routing transaction: the run is
    # written, the message unacknowledged, the notifications not yet made.
    holder = psycopg2.connect(**dsn)
    holder.cursor().execute("LOCK TABLE routing_notification IN ACCESS EXCLUSIVE MODE")
    first = start_worker()
    second = None
    try:
        ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
        wait_for(lambda: blocked_on_a_lock(dsn), timeout=30)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        holder.rollback()  # the killed worker's transaction can now only roll back

        second = start_worker()
        routed = wait_for(
            lambda: TicketEvent.objects.filter(ticket=ticket, dispatched_at__isnull=False).first(),
            timeout=VISIBILITY_TIMEOUT + 45,
        )
        time.sleep(1)  # a second delivery of the message, were there one, would land now
        assert RoutingRun.objects.filter(event=routed).count() == 1
        # The starter rules send a bug to engineering and, with unpaid invoices, to finance;
        # this customer has none, so exactly one item: made once, not once per delivery.
        assert list(
            Notification.objects.filter(ticket=ticket).values_list("department__slug", flat=True)
        ) == ["engineering"]
    finally:
        holder.close()
        for worker in (first, second):
            if worker and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=20)
