"""A worker keeps its database connection from one task to the next, as a web process keeps it
from one request to the next (CONN_MAX_AGE), instead of connecting anew for every task.

Celery's Django fixup closes every connection around each task unless CELERY_DB_REUSE_MAX is
set; a new PostgreSQL connection costs several milliseconds of each routed event.
"""

import pytest
from django.db import connection, connections

from tests.conftest import wait_for
from tests.factories import CustomerFactory
from tickets.models import TicketEvent
from tickets.services import ticket_create

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _worker_backends() -> set[int]:
    """The other sessions connected to the test database: the worker's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


@pytest.fixture
def kept_connections():
    """The worker's connections kept for 10 minutes (the suite closes them after each task, so
    that the test database can be dropped); the one it keeps is ended afterwards."""
    config = connections.settings["default"]
    before = config["CONN_MAX_AGE"]
    config["CONN_MAX_AGE"] = 600
    yield
    config["CONN_MAX_AGE"] = before
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def _route_one(customer, subject: str) -> None:
    ticket = ticket_create(customer=customer, kind="call", channel="phone", subject=subject)
    wait_for(
        lambda: TicketEvent.objects.filter(ticket=ticket, dispatched_at__isnull=False).exists()
    )


def test_the_worker_routes_event_after_event_on_one_connection(kept_connections, live_worker):
    customer = CustomerFactory()
    _route_one(customer, "First")
    # The task has ended; its connection stayed open, idle, for the next one.
    backends = wait_for(_worker_backends)
    for subject in ("Second", "Third"):
        _route_one(customer, subject)
        assert _worker_backends() == backends
