import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections
from rest_framework.test import APIClient

from accounts.departments import departments_ensure
from accounts.models import Department, Membership
from helpdesk.celery import app as celery_app
from routing.starter_rules import starter_rules_install
from tests.factories import CustomerFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Hashing strength is Django's concern, not ours; a fast hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _api_rate_limits_off(settings):
    # Counts would carry over from test to test (and run to run, in Redis); the limits are
    # tested on their own in tests/accounts/test_api_throttle.py.
    settings.API_THROTTLE_RATES = {"user": None, "anon": None}


@pytest.fixture(autouse=True)
def _seeded_departments(request):
    """Transactional tests empty every table afterwards, data migrations' rows included."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        departments_ensure(Department)


@pytest.fixture
def rep(db):
    user = UserFactory(username="rep")
    Membership.objects.create(user=user, department=Department.objects.get(slug="support"))
    return user


@pytest.fixture
def admin_user(db):
    return UserFactory(username="boss", is_staff=True, is_superuser=True)


@pytest.fixture
def salesperson(db):
    user = UserFactory(username="seller")
    Membership.objects.create(user=user, department=Department.objects.get(slug="sales"))
    return user


@pytest.fixture
def customer(salesperson):
    """A customer in good standing: no contract, no invoices, no pay-for-bug."""
    return CustomerFactory(name="Plain Co", salesperson=salesperson)


@pytest.fixture
def api(rep):
    client = APIClient()
    client.force_authenticate(rep)
    return client


@pytest.fixture
def admin_api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


@pytest.fixture
def starter_rules(db):
    return starter_rules_install()


@pytest.fixture
def followup(customer, salesperson, rep):
    """A follow-up for the salesperson, made by a rule when a rep resolved a bug."""
    from queues.models import FollowUpTask
    from routing.services import rule_create
    from tickets.services import ticket_create, ticket_update

    rule_create(
        name="Follow up resolved bugs",
        trigger="ticket.status_changed",
        conditions={"all": [{"field": "status", "operator": "changed_to", "value": "resolved"}]},
        actions=[{"type": "create_followup", "due_in_working_days": 2, "reason": "Check"}],
    )
    ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
    ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="product_defect", resolution="ok"
    )
    dispatch_pending()
    return FollowUpTask.objects.get(ticket=ticket)


def purge_tasks() -> None:
    """Empty the broker's queues, and lower the flag that stood for a dispatch task queued
    there (helpdesk.queue): the next event sends its task."""
    from helpdesk.queue import started
    from tickets.outbox import DISPATCH_QUEUED

    celery_app.control.purge()
    started(DISPATCH_QUEUED)


@pytest.fixture
def live_worker(transactional_db):
    """A real Celery worker consuming from the real broker, in a thread of this process.

    The queue is purged first so messages left by earlier tests (for rows that no longer exist)
    do not mix with this test's. The broker is Redis, or RabbitMQ with CELERY_BROKER_URL.
    """
    assert not celery_app.conf.task_always_eager, "worker tests need REDIS_URL (see README)"
    purge_tasks()
    with worker_thread() as worker:
        yield worker
    connections.close_all()


@contextmanager
def worker_thread():
    """A real Celery worker in a thread of this process, once it is consuming."""
    with start_worker(
        celery_app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        shutdown_timeout=30,
        loglevel="WARNING",
    ) as worker:
        _until_consuming(worker)
        yield worker


def _until_consuming(worker) -> None:
    """Return once the worker's event loop answers a ping.

    start_worker returns when the consumer is set up, a moment before its event loop polls the
    broker's socket; on RabbitMQ a message delivered in that moment is then only seen when the
    loop next wakes, up to ten seconds later. A ping answered proves the loop is polling. The
    loop also wakes every quarter second from here on, so that stopping the worker at the end
    of the test does not wait out the same ten seconds.
    """
    worker.consumer.timer.call_repeatedly(0.25, lambda: None)
    deadline = time.monotonic() + 15
    while not celery_app.control.ping(destination=[worker.hostname], timeout=0.5):
        if time.monotonic() > deadline:
            pytest.fail("the test worker did not answer a ping within 15 s")


def database_url(name: str | None = None) -> str:
    """The test database's URL (or that of database ``name`` on its server), password and port
    included, for a process started by a test."""
    db = connections["default"].settings_dict
    user = quote(db["USER"] or "postgres", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{user}{password}@{host}/{name or db['NAME']}"


def worker_process(*, stderr=subprocess.DEVNULL, loglevel="WARNING", **env: str):
    """A real ``celery worker`` process (one, solo) against the test database, with ``env``
    added to this process's environment."""
    environment = {**os.environ, "DATABASE_URL": database_url(), **env}
    return subprocess.Popen(  # noqa: S603 - our own interpreter and project
        [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=solo"]
        + ["--concurrency=1", "--without-gossip", "--without-mingle", f"--loglevel={loglevel}"],
        cwd=Path(__file__).resolve().parents[1],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def wait_for(predicate, *, timeout: float = 15.0, interval: float = 0.05):
    """Poll until ``predicate()`` is truthy; return its value or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")


def dispatch_pending() -> int:
    """Dispatch, in this process, every event not yet dispatched (as the worker would)."""
    from tickets import outbox
    from tickets.models import TicketEvent

    count = 0
    while True:
        pending = list(
            TicketEvent.objects.filter(dispatched_at__isnull=True).values_list("id", flat=True)
        )
        if not pending:
            return count
        for event_id in pending:
            outbox.event_dispatch(event_id=event_id)
            count += 1


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback; Django's SMTP backend sends to it. Yields the messages.

    ``smtp_server.refuse`` maps recipient addresses to an SMTP reply (say ``"550 No such user"``)
    to refuse them with.
    """
    from aiosmtpd.controller import Controller

    class Handler:
        def __init__(self):
            self.messages = []
            self.refuse = {}
            # The client address of each message's connection: one per connection opened.
            self.peers = []

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            if address in self.refuse:
                return self.refuse[address]
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            from email import message_from_bytes

            self.messages.append(message_from_bytes(envelope.content))
            self.peers.append(session.peer)
            return "250 Message accepted"

    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def http_receiver(settings):
    """A real HTTP server on loopback recording every request; ``statuses`` is the list of
    status codes to answer with, in order (200 once it runs out). Loopback is let through to
    webhook calls, which refuse it by default."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Receiver:
        requests: list[dict] = []
        statuses: list[int] = []

    receiver = Receiver()
    receiver.requests = []
    receiver.statuses = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(
                {"method": self.command, "headers": dict(self.headers), "body": body}
            )
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            if status == "garbage":  # a peer that does not speak HTTP
                self.wfile.write(b"HELLO THERE\r\n\r\n")
                self.close_connection = True
                return
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/moved")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST  # noqa: N815 - recorded too, to show a redirect is not followed

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1"]
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
