"""Slow peers cannot stall routing: each call has a total deadline, a delivery is claimed by one
conditional UPDATE and sent with no transaction or row lock open, and every task is bounded."""

import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from deliveries import services as deliveries
from deliveries.models import EmailDelivery, Webhook, WebhookDelivery
from helpdesk.celery import app as celery_app
from routing.services import rule_create
from tests.conftest import dispatch_pending, wait_for
from tests.factories import ContactFactory
from tickets.models import TicketEvent
from tickets.services import ticket_create

DEADLINE = 2


class _Trickler(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _request_length(data: bytes) -> int:
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return len(head) + 4


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    # The peers here listen on loopback, which webhook calls refuse by default.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1"]


@pytest.fixture
def trickling_peer():
    """A real peer on loopback that answers one byte per second: ``peer.answer`` is what it
    sends (after ``peer.fast`` bytes sent at once), ``peer.reads_request`` whether it reads an
    HTTP request first (an SMTP server speaks first)."""

    class Peer:
        answer = b""
        fast = 0
        reads_request = True
        connections = 0
        tls = None

    peer = Peer()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            peer.connections += 1
            if peer.tls:
                self.request = peer.tls.wrap_socket(self.request, server_side=True)
            if peer.reads_request:
                data = b""
                while b"\r\n\r\n" not in data or len(data) < _request_length(data):
                    chunk = self.request.recv(65536)
                    if not chunk:
                        return
                    data += chunk
            try:
                self.request.sendall(peer.answer[: peer.fast])
                for byte in peer.answer[peer.fast :]:
                    time.sleep(1)
                    self.request.sendall(bytes([byte]))
            except OSError:
                pass  # the client gave up, as it should

    server = _Trickler(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    peer.port = server.server_address[1]
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tls_trickling_peer(trickling_peer, tmp_path, monkeypatch):
    """The trickling peer behind TLS, with a certificate for 127.0.0.1 this process trusts."""
    import shutil
    import ssl

    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - fixed arguments
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read by each default context
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    trickling_peer.tls = context
    return trickling_peer


def _rule(actions):
    return rule_create(name="r", trigger="ticket.created", conditions={}, actions=actions)


def _webhook_delivery(customer, url) -> WebhookDelivery:
    Webhook.objects.create(name="crm", url=url)
    _rule([{"type": "call_webhook", "webhook": "crm"}])
    ticket_create(customer=customer, kind="bug", channel="email", subject="Printer on fire")
    dispatch_pending()
    return WebhookDelivery.objects.get()


def _timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n" + b"thank you!!!"


@pytest.mark.django_db
class TestDeadlines:
    @pytest.mark.parametrize(
        "fast",
        [0, _OK.index(b"\r\n\r\n") + 4],
        ids=["headers one byte a second", "slow body after a quick 200"],
    )
    def test_a_webhook_peer_trickling_its_answer_is_cut_off_and_retried(
        self, settings, customer, trickling_peer, fast
    ):
        settings.WEBHOOK_TIMEOUT_SECONDS = DEADLINE
        trickling_peer.answer, trickling_peer.fast = _OK, fast
        delivery = _webhook_delivery(customer, f"http://127.0.0.1:{trickling_peer.port}/hook")
        status, took = _timed(lambda: deliveries.webhook_deliver(delivery_id=delivery.pk))
        assert status == "retrying"
        assert DEADLINE - 0.5 < took < DEADLINE + 1
        attempt = delivery.tries.get()
        assert attempt.status_code is None
        assert "before the deadline" in attempt.error
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.claimed_at) == ("retrying", 1, None)
        assert delivery.next_attempt_at > timezone.now()

    @pytest.mark.parametrize("fast", [0, len(_OK)], ids=["trickling", "quick"])
    def test_the_deadline_holds_over_https(self, settings, customer, tls_trickling_peer, fast):
        settings.WEBHOOK_TIMEOUT_SECONDS = DEADLINE
        tls_trickling_peer.answer, tls_trickling_peer.fast = _OK, fast
        delivery = _webhook_delivery(customer, f"https://127.0.0.1:{tls_trickling_peer.port}/")
        status, took = _timed(lambda: deliveries.webhook_deliver(delivery_id=delivery.pk))
        error = delivery.tries.get().error
        assert status == ("sent" if fast else "retrying"), error
        if fast:
            assert error == ""
        else:
            assert "before the deadline" in error
            assert took > DEADLINE - 0.5  # it waited for the peer, up to the deadline
        assert took < DEADLINE + 1

    def test_a_quick_peer_is_still_sent(self, settings, customer, trickling_peer):
        settings.WEBHOOK_TIMEOUT_SECONDS = DEADLINE
        trickling_peer.answer, trickling_peer.fast = _OK, len(_OK)
        delivery = _webhook_delivery(customer, f"http://127.0.0.1:{trickling_peer.port}/hook")
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "sent"
        assert delivery.tries.get().status_code == 200

    def test_an_smtp_server_trickling_its_greeting_is_cut_off_and_retried(
        self, settings, customer, trickling_peer
    ):
        trickling_peer.reads_request = False
        trickling_peer.answer = b"220 slow.example ESMTP at your service\r\n"
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", trickling_peer.port
        settings.EMAIL_TIMEOUT = DEADLINE
        _rule([{"type": "send_email", "to": "contact", "subject": "s", "body": "b"}])
        contact = ContactFactory(customer=customer, email="ann@plain.example")
        ticket_create(customer=customer, kind="bug", channel="email", subject="s", contact=contact)
        dispatch_pending()
        delivery = EmailDelivery.objects.get()
        status, took = _timed(lambda: deliveries.email_deliver(delivery_id=delivery.pk))
        assert status == "retrying"
        assert DEADLINE - 0.5 < took < DEADLINE + 1
        delivery.refresh_from_db()
        assert "before the deadline" in delivery.reason

    def test_a_send_stopped_by_the_soft_time_limit_is_retried(
        self, settings, customer, trickling_peer, monkeypatch
    ):
        from celery.exceptions import SoftTimeLimitExceeded

        delivery = _webhook_delivery(customer, "http://hooks.example/hook")

        def hung_resolver(*args, **kwargs):
            # Where no deadline reaches: Celery's soft limit interrupts a name lookup.
            raise SoftTimeLimitExceeded()

        monkeypatch.setattr(socket, "getaddrinfo", hung_resolver)
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "retrying"
        assert delivery.tries.get().error == (
            "Stopped at the task's time limit (CELERY_TASK_SOFT_TIME_LIMIT)"
        )


@pytest.mark.django_db(transaction=True)
class TestClaims:
    def test_two_tasks_at_once_send_once_and_hold_no_lock_while_calling(
        self, settings, customer, trickling_peer
    ):
        settings.WEBHOOK_TIMEOUT_SECONDS = 5
        # A peer taking two seconds over its headers, long enough for both tasks to run at once.
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        trickling_peer.answer, trickling_peer.fast = answer, len(answer) - 2
        delivery = _webhook_delivery(customer, f"http://127.0.0.1:{trickling_peer.port}/hook")
        results = []

        def task():
            results.append(deliveries.webhook_deliver(delivery_id=delivery.pk))
            connection.close()

        threads = [threading.Thread(target=task) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        # Mid-call, the row is neither locked nor held in an open transaction: routing (or the
        # admin) can lock it at once.
        with transaction.atomic():
            row = WebhookDelivery.objects.select_for_update(nowait=True).get(pk=delivery.pk)
        assert row.status == "sending"
        for thread in threads:
            thread.join()
        assert sorted(results) == ["not due", "sent"]
        assert trickling_peer.connections == 1
        assert delivery.tries.count() == 1

    def test_a_claim_whose_worker_died_expires(self, settings, customer, trickling_peer):
        trickling_peer.answer, trickling_peer.fast = _OK, len(_OK)
        delivery = _webhook_delivery(customer, f"http://127.0.0.1:{trickling_peer.port}/hook")
        # A worker claimed it, then died mid-send.
        claimed = timezone.now()
        WebhookDelivery.objects.update(status="sending", claimed_at=claimed, attempts=1)
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "not due"
        assert deliveries.deliveries_sweep() == 0
        expired = claimed - timedelta(seconds=settings.DELIVERY_CLAIM_SECONDS + 1)
        WebhookDelivery.objects.update(claimed_at=expired)
        assert deliveries.deliveries_sweep() == 1
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "sent"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("sent", 2)
        assert list(delivery.tries.values_list("number", flat=True)) == [2]

    def test_a_send_whose_worker_dies_every_time_fails_after_its_attempts(self, settings, customer):
        delivery = _webhook_delivery(customer, "http://127.0.0.1:1/hook")
        expired = timezone.now() - timedelta(seconds=settings.DELIVERY_CLAIM_SECONDS + 1)
        WebhookDelivery.objects.update(
            status="sending", claimed_at=expired, attempts=settings.DELIVERY_MAX_ATTEMPTS
        )
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "not due"
        assert deliveries.deliveries_sweep() == 0
        delivery.refresh_from_db()
        assert delivery.status == "failed"
        assert delivery.reason.startswith("Every attempt stopped unfinished")

    def test_a_result_after_the_claim_was_taken_over_is_not_recorded(self, customer):
        delivery = _webhook_delivery(customer, "http://127.0.0.1:1/hook")
        claimed = deliveries._claim(WebhookDelivery, delivery.pk)
        # Its claim expired and another worker sent it meanwhile.
        WebhookDelivery.objects.update(status="sent", claimed_at=None)
        assert deliveries._record(claimed, status="retrying") is False
        delivery.refresh_from_db()
        assert delivery.status == "sent"


@pytest.mark.django_db
class TestSweep:
    def test_two_sweeps_enqueue_a_delivery_once_until_its_claim_expires(
        self, settings, customer, django_capture_on_commit_callbacks
    ):
        delivery = _webhook_delivery(customer, "http://127.0.0.1:1/hook")
        due = timezone.now() - timedelta(seconds=1)
        WebhookDelivery.objects.update(status="retrying", next_attempt_at=due)
        with django_capture_on_commit_callbacks() as callbacks:
            assert deliveries.deliveries_sweep() == 1
            assert deliveries.deliveries_sweep() == 0
        assert len(callbacks) == 1
        # A message lost on the way is enqueued again once the sweep's claim expires.
        expired = timezone.now() - timedelta(seconds=settings.DELIVERY_CLAIM_SECONDS + 1)
        WebhookDelivery.objects.update(enqueued_at=expired)
        assert deliveries.deliveries_sweep() == 1
        # A worker's claim ends the sweep's: a failed try is enqueued as soon as it is due again.
        assert deliveries.webhook_deliver(delivery_id=delivery.pk) == "retrying"
        WebhookDelivery.objects.update(next_attempt_at=due)
        assert deliveries.deliveries_sweep() == 1

    def test_a_pending_email_whose_message_was_lost_is_enqueued_once(self, customer):
        _rule([{"type": "send_email", "to": "contact", "subject": "s", "body": "b"}])
        contact = ContactFactory(customer=customer, email="ann@plain.example")
        ticket_create(customer=customer, kind="bug", channel="email", subject="s", contact=contact)
        dispatch_pending()
        EmailDelivery.objects.update(created_at=timezone.now() - timedelta(minutes=5))
        assert deliveries.deliveries_sweep() == 1
        assert deliveries.deliveries_sweep() == 0


class TestTimeLimits:
    def test_every_task_has_soft_and_hard_limits_below_the_visibility_timeout(self, settings):
        celery_app.loader.import_default_modules()  # as a worker does: every app's tasks
        visibility = settings.CELERY_VISIBILITY_TIMEOUT
        if celery_app.conf.broker_url.startswith("redis"):
            assert celery_app.conf.broker_transport_options["visibility_timeout"] == visibility
        tasks = {name: t for name, t in celery_app.tasks.items() if not name.startswith("celery.")}
        assert {"routing.tasks.call_webhook_delivery", "tickets.tasks.dispatch_event"} <= set(tasks)
        for name, task in tasks.items():
            soft = task.soft_time_limit or celery_app.conf.task_soft_time_limit
            hard = task.time_limit or celery_app.conf.task_time_limit
            assert soft, name
            assert hard, name
            assert soft < hard < visibility, name
        # A claim outlives the longest send, so a live worker is never overtaken.
        assert settings.DELIVERY_CLAIM_SECONDS > celery_app.conf.task_time_limit

    def test_limits_that_reach_the_visibility_timeout_are_refused(self):
        env = os.environ | {"CELERY_TASK_TIME_LIMIT": "900", "CELERY_VISIBILITY_TIMEOUT": "600"}
        result = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()"],
            env=env | {"DJANGO_SETTINGS_MODULE": "helpdesk.settings"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 0
        assert "CELERY_VISIBILITY_TIMEOUT" in result.stderr


def test_deadline_socket_refuses_to_wait_past_its_deadline():
    left, right = socket.socketpair()
    with left, right:
        wrapped = deliveries._DeadlineSocket(left, time.monotonic() - 1)
        with pytest.raises(TimeoutError):
            wrapped.recv(1)
        with pytest.raises(TimeoutError):
            wrapped.sendall(b"x")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_trickling_webhook_peer_delays_other_routing_by_its_deadline_at_most(
    settings, customer, trickling_peer, live_worker
):
    settings.WEBHOOK_TIMEOUT_SECONDS = DEADLINE
    trickling_peer.answer = _OK  # all of it a byte a second: about fifty seconds
    Webhook.objects.create(name="crm", url=f"http://127.0.0.1:{trickling_peer.port}/hook")
    _rule([{"type": "call_webhook", "webhook": "crm"}])
    ticket_create(customer=customer, kind="bug", channel="email", subject="First")
    wait_for(lambda: trickling_peer.connections == 1)  # the only worker is calling the peer
    started = time.monotonic()
    second = ticket_create(customer=customer, kind="bug", channel="email", subject="Unrelated")
    wait_for(
        lambda: TicketEvent.objects.filter(ticket=second, dispatched_at__isnull=False).exists(),
        timeout=DEADLINE + 10,
    )
    assert time.monotonic() - started < DEADLINE + 2
    first = WebhookDelivery.objects.get(ticket__subject="First")
    assert first.status == "retrying"
    assert "before the deadline" in first.tries.get().error
