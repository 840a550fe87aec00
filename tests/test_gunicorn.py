"""The web tier as deployed: gunicorn with helpdesk.gunicorn_conf, its access lines JSON with
the request's id, and /metrics adding up what each of its worker processes counted."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import _free_port, database_url, wait_for

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gunicorn(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "LOG_FORMAT": "json",
        "METRICS_TOKEN": "scrape-token",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Connections kept between requests, as in production, and readiness not cached.
        "DATABASE_CONN_MAX_AGE": "600",
        "READYZ_CACHE_SECONDS": "0",
    }
    out = (tmp_path / "out.log").open("wb")
    err = (tmp_path / "err.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and project
        [sys.executable, "-m", "gunicorn", "-c", "python:helpdesk.gunicorn_conf"]
        + ["helpdesk.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=err,
    )
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200  # noqa: S310
        except OSError:
            return False

    try:
        wait_for(up, timeout=30, interval=0.2)
        server.base = base
        server.out = tmp_path / "out.log"
        server.err = tmp_path / "err.log"
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)
        out.close()
        err.close()


def _get(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a local test server
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return response.status, response.read().decode()


def test_access_lines_are_json_with_the_request_id(gunicorn):
    status, _ = _get(f"{gunicorn.base}/healthz?probe=1", **{"X-Request-ID": "lb-access-1"})
    assert status == 200

    def access_line():
        for line in gunicorn.out.read_text().splitlines():
            record = json.loads(line)
            if record.get("request_id") == "lb-access-1":
                return record
        return None

    record = wait_for(access_line)
    assert record["logger"] == "gunicorn.access"
    assert (record["method"], record["path"], record["status"]) == ("GET", "/healthz", 200)
    assert isinstance(record["duration_ms"], int)
    assert "lb-access-1" in record["message"]
    # gunicorn's own lines (booting, workers) are JSON as well.
    errors = [json.loads(line) for line in gunicorn.err.read_text().splitlines() if line.strip()]
    assert any(line["logger"] == "gunicorn.error" for line in errors)


def test_metrics_add_up_the_requests_of_every_worker_process(gunicorn):
    for _ in range(20):
        _get(f"{gunicorn.base}/healthz")
    time.sleep(0.2)
    status, text = _get(f"{gunicorn.base}/metrics", Authorization="Bearer scrape-token")
    assert status == 200
    counts = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("switchboard_http_request_duration_seconds_count") and "healthz" in line
    ]
    # Each of the two processes counted the requests it served; the scrape shows the sum (the
    # 20 above and those gunicorn's start-up probe made).
    assert sum(counts) >= 20, text[:2000]


_OTHER_SESSIONS = (
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def _end_other_sessions() -> int:
    """End every other session on the test database (the server's), as a database restart
    does, and wait until they are gone."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) " + _OTHER_SESSIONS)
        ended = cursor.fetchone()[0]

        def gone():
            cursor.execute("SELECT count(*) " + _OTHER_SESSIONS)
            return cursor.fetchone()[0] == 0

        wait_for(gone)
    return ended


def test_requests_after_the_database_ended_the_servers_sessions_succeed(gunicorn):
    for _ in range(6):  # both worker processes connect, and keep their connections
        assert _get(f"{gunicorn.base}/readyz?only=database")[0] == 200
    assert _end_other_sessions() >= 1
    for _ in range(6):
        assert _get(f"{gunicorn.base}/readyz?only=database")[0] == 200
