"""A kept database connection is checked before each request's first query without a
statement of its own, and one the server has closed is still replaced before the request uses
it (helpdesk/postgresql). tests/test_gunicorn.py checks the same through a real server.
"""

import psycopg2
import pytest
from django.db import close_old_connections, connections

from tests.conftest import database_url, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kept():
    """The default connection, kept between requests with health checks, as in a server."""
    wrapper = connections["default"]
    before = wrapper.settings_dict["CONN_MAX_AGE"]
    wrapper.settings_dict["CONN_MAX_AGE"] = 600
    wrapper.close()
    wrapper.ensure_connection()
    assert wrapper.health_check_enabled
    yield wrapper
    wrapper.settings_dict["CONN_MAX_AGE"] = before
    wrapper.close()


@pytest.fixture
def round_trips(kept, monkeypatch):
    """The ``SELECT 1`` checks Django would send (its ``is_usable``), counted."""
    calls = []
    real = kept.is_usable

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(kept, "is_usable", counted)
    return calls


def _backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    """End a session from outside, as a restart or an administrator does, and wait until the
    server process is gone."""
    other = psycopg2.connect(database_url(connections["default"].settings_dict["NAME"]))
    other.autocommit = True
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

            def gone():
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                return cursor.fetchone()[0] == 0

            wait_for(gone)
    finally:
        other.close()


def test_a_healthy_kept_connection_is_used_without_a_select_1(kept, round_trips):
    pid = _backend_pid(kept)
    for _ in range(3):
        close_old_connections()  # what request_started does: the next query is checked
        assert _backend_pid(kept) == pid
    assert round_trips == []


def test_a_connection_the_server_ended_is_replaced_before_the_request_uses_it(kept, round_trips):
    pid = _backend_pid(kept)
    _terminate(pid)
    close_old_connections()
    # The request's first query runs on a new connection instead of failing.
    assert _backend_pid(kept) != pid
    assert round_trips == [1]  # Django's own check decided, and failed
