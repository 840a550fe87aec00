"""Reports may read from a replica; nothing else ever does, and nothing is written there."""

import json

import pytest
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

from helpdesk import db_routers
from helpdesk.db_routers import ReportReplicaRouter, report_work_mem, reports_on_replica
from tests.test_settings import load
from tickets.models import Ticket

WITH_REPLICA = {
    "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "primary"},
    "replica": {"ENGINE": "django.db.backends.postgresql", "NAME": "replica"},
}


def test_report_reads_go_to_the_replica_and_nothing_else(settings):
    settings.DATABASES = WITH_REPLICA
    router = ReportReplicaRouter()
    assert router.db_for_read(Ticket) is None  # outside a report: the primary, as usual
    with reports_on_replica():
        assert router.db_for_read(Ticket) == "replica"
        assert router.db_for_write(Ticket) == "default"
    assert router.db_for_read(Ticket) is None
    assert router.allow_migrate("default", "tickets") is True
    assert router.allow_migrate("replica", "tickets") is False


def test_without_a_replica_reports_read_the_primary(settings):
    settings.DATABASES = {"default": WITH_REPLICA["default"]}
    with reports_on_replica():
        assert ReportReplicaRouter().db_for_read(Ticket) is None


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_report_page_reads_from_the_replica():
    # Exports are not reports: their page reads the row a worker has just written, which a
    # lagging replica may not have yet, so it reads the primary.
    reports = [
        (route, view)
        for route, view in _patterns(get_resolver())
        if route.startswith("insights/") and not route.startswith("insights/exports/")
    ]
    assert len(reports) >= 4
    for route, view in reports:
        assert getattr(view, "reads_from_replica", False), route


@pytest.mark.django_db
def test_a_report_runs_with_its_reads_marked_for_the_replica(client, rep, monkeypatch):
    seen = []

    def spy(self, model, **hints):
        seen.append((model.__name__, db_routers._reports.get()))
        return None  # the test database has no replica: read the primary

    monkeypatch.setattr(ReportReplicaRouter, "db_for_read", spy)
    client.force_login(rep)
    seen.clear()
    assert client.get("/insights/root-causes/").status_code == 200
    # The session and the login are read before the report, from the primary; the report's
    # own reads (tickets, the departments that own each cause) are marked for the replica.
    assert ("Session", False) in seen
    assert ("Ticket", True) in seen
    assert ("Department", True) in seen


def test_a_replica_url_adds_a_replica_mirroring_the_primary_in_tests():
    probe = load(
        DJANGO_SECRET_KEY="x",
        DATABASE_URL="postgres://u@db.example/main",
        DATABASE_REPLICA_URL="postgres://u@replica.example/main",
    )
    assert probe.returncode == 0, probe.stderr
    refused = load(DJANGO_SECRET_KEY="x", DATABASE_REPLICA_URL="postgres://u@replica.example/m")
    assert refused.returncode != 0
    assert "DATABASE_REPLICA_URL needs DATABASE_URL" in refused.stderr
    assert json.loads(probe.stdout)["engine"] == "helpdesk.postgresql"


def _work_mem() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_report_gets_its_sort_memory_for_its_own_transaction_only(settings):
    settings.DATABASE_REPORT_WORK_MEM = "48MB"
    before = _work_mem()
    assert before != "48MB"
    with report_work_mem():
        assert connection.in_atomic_block
        assert _work_mem() == "48MB"
    # The connection goes back to the server's setting for whatever it serves next.
    assert _work_mem() == before
    settings.DATABASE_REPORT_WORK_MEM = ""
    with report_work_mem():
        assert _work_mem() == before


@pytest.mark.django_db(transaction=True)
def test_report_pages_run_with_the_report_sort_memory(client, rep, monkeypatch, settings):
    settings.DATABASE_REPORT_WORK_MEM = "40MB"
    seen = []
    real = db_routers.ReportReplicaRouter.db_for_read

    def spy(self, model, **hints):
        if model.__name__ == "Ticket" and not seen:
            seen.append(_work_mem())
        return real(self, model, **hints)

    monkeypatch.setattr(ReportReplicaRouter, "db_for_read", spy)
    client.force_login(rep)
    assert client.get("/insights/root-causes/").status_code == 200
    assert seen == ["40MB"]


def test_the_report_sort_memory_must_be_a_postgresql_size():
    refused = load(DJANGO_SECRET_KEY="x", DATABASE_REPORT_WORK_MEM="lots")
    assert refused.returncode != 0
    assert "DATABASE_REPORT_WORK_MEM must be a size" in refused.stderr
    assert load(DJANGO_SECRET_KEY="x", DATABASE_REPORT_WORK_MEM="256MB").returncode == 0
