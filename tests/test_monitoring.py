"""Liveness, readiness and the Prometheus endpoint: what each answers, to whom, and that a
failing part says so without saying more."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from deliveries.models import EmailDelivery
from monitoring import health
from tests.conftest import dispatch_pending
from tickets.models import TicketEvent
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests"


@pytest.fixture(autouse=True)
def _fresh_verdicts(settings):
    """Each check runs at each call unless a test asks for verdicts to be kept."""
    settings.READYZ_CACHE_SECONDS = 0
    health._recent.clear()


def test_healthz_asks_nothing_of_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_checks_database_migrations_broker_and_outbox(client, customer, settings):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "broker": "ok", "outbox": "ok"},
    }
    # An event routing has not reached for longer than the threshold: not ready.
    ticket_create(customer=customer, kind="call", channel="phone", subject="Waiting")
    TicketEvent.objects.filter(dispatched_at__isnull=True).update(
        created_at=timezone.now() - timedelta(seconds=settings.READYZ_OUTBOX_LAG_SECONDS + 5)
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["outbox"] == "failing"
    assert response.json()["status"] == "not ready"
    dispatch_pending()
    assert client.get("/readyz").status_code == 200


def test_an_event_routing_gave_up_on_does_not_hold_readiness_down(client, customer, settings):
    from tickets.outbox import MAX_DISPATCH_FAILURES

    ticket_create(customer=customer, kind="call", channel="phone", subject="Given up")
    TicketEvent.objects.filter(dispatched_at__isnull=True).update(
        created_at=timezone.now() - timedelta(days=2), dispatch_failures=MAX_DISPATCH_FAILURES
    )
    # Counted where a person sees it (switchboard_outbox_given_up), not aged as lag.
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()


def test_a_load_balancer_asks_only_what_a_web_process_needs(
    client, customer, settings, monkeypatch
):
    def broker_down():
        raise OSError("refused")

    monkeypatch.setitem(health.CHECKS, "broker", broker_down)
    ticket_create(customer=customer, kind="call", channel="phone", subject="Waiting")
    TicketEvent.objects.filter(dispatched_at__isnull=True).update(
        created_at=timezone.now() - timedelta(seconds=settings.READYZ_OUTBOX_LAG_SECONDS + 5)
    )
    assert client.get("/readyz").status_code == 503
    response = client.get("/readyz", {"only": "database, migrations"})
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}
    refused = client.get("/readyz", {"only": "database,disk"})
    assert refused.status_code == 400
    assert "disk" in refused.json()["only"][0]


def test_verdicts_are_kept_for_a_moment(client, settings, django_assert_num_queries):
    settings.READYZ_CACHE_SECONDS = 60
    assert client.get("/readyz").status_code == 200
    with django_assert_num_queries(0):
        assert client.get("/readyz").status_code == 200
    settings.READYZ_CACHE_SECONDS = 0
    with django_assert_num_queries(2):  # SELECT 1, the outbox's one query
        assert client.get("/readyz").status_code == 200


def test_readyz_says_which_check_fails_and_nothing_more(client, monkeypatch, caplog):
    def broker_down():
        raise OSError("Connection refused by redis.internal:6379")

    monkeypatch.setitem(health.CHECKS, "broker", broker_down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "broker": "failing",
        "outbox": "ok",
    }
    assert b"redis.internal" not in response.content
    assert "redis.internal" in caplog.text  # the reason is in the log, for the operator


def test_readyz_fails_with_a_migration_not_applied(client, monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'routing' AND name = %s",
            ["0014_routingrun_created_brin"],
        )
    assert client.get("/readyz").json()["checks"]["migrations"] == "failing"


def test_the_manage_command_exits_non_zero_when_not_ready(monkeypatch, capsys):
    from django.core.management import CommandError, call_command

    call_command("readyz")
    assert "database: ok" in capsys.readouterr().out
    monkeypatch.setitem(health.CHECKS, "database", lambda: False)
    with pytest.raises(CommandError, match="not ready"):
        call_command("readyz")
    capsys.readouterr()
    call_command("readyz", "--only", "broker,outbox")
    assert "database" not in capsys.readouterr().out
    with pytest.raises(CommandError, match="Unknown checks: disk"):
        call_command("readyz", "--only", "disk")


def test_metrics_need_the_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    refused = client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="metrics"'


def test_metrics_report_the_outbox_routing_deliveries_mail_and_requests(client, settings, customer):
    settings.METRICS_TOKEN = TOKEN
    ticket_create(customer=customer, kind="call", channel="phone", subject="One")
    ticket_create(customer=customer, kind="call", channel="phone", subject="Two")
    TicketEvent.objects.update(created_at=timezone.now() - timedelta(seconds=90))
    EmailDelivery.objects.create(
        key="metrics-test-1", recipient="a@example.com", subject="s", body="b", status="failed"
    )
    client.get("/healthz")
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    assert "switchboard_outbox_backlog 2.0" in text
    lag = float(re.search(r"^switchboard_outbox_lag_seconds (\S+)$", text, re.M).group(1))
    assert 90 <= lag < 120
    assert 'switchboard_deliveries{kind="email",state="failed"} 1.0' in text
    assert 'switchboard_deliveries{kind="webhook",state="pending"} 0.0' in text
    assert 'switchboard_inbound_mail{state="quarantined"} 0.0' in text
    assert (
        'switchboard_http_request_duration_seconds_count{method="GET",status="2xx",view="healthz"}'
        in text
    )
    dispatch_pending()
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    assert "switchboard_outbox_backlog 0.0" in text
    assert "switchboard_routing_runs_5m 2.0" in text
    assert 'switchboard_routing_delay_seconds_5m{stat="max"}' in text


def test_metrics_count_the_tasks_waiting_in_each_celery_queue(client, settings):
    from helpdesk.celery import app as celery_app

    settings.METRICS_TOKEN = TOKEN
    celery_app.control.purge()
    for _ in range(3):
        celery_app.send_task("insights.tasks.delete_old_exports")  # no worker runs here
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    celery_app.control.purge()
    assert 'switchboard_celery_queue_depth{queue="reports"} 3.0' in text
    assert 'switchboard_celery_queue_depth{queue="routing"} 0.0' in text
