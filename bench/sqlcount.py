"""Counting the SQL a piece of code sends, transactions and savepoints included.

Django's ``execute_wrapper`` sees every statement a cursor executes, savepoints among them
(``SAVEPOINT``, ``RELEASE SAVEPOINT``, ``ROLLBACK TO SAVEPOINT`` are run through a cursor), but
not ``BEGIN`` and ``COMMIT``: psycopg sends ``BEGIN`` itself before the first statement once
autocommit is off, and ``COMMIT`` from ``connection.commit()``. So transactions are counted from
the connection's commits and rollbacks (wrapped for the duration), plus one per statement run
in autocommit mode, each of which PostgreSQL runs as a transaction of its own.
A kept connection (``CONN_MAX_AGE`` with ``CONN_HEALTH_CHECKS``) is checked at a request's
first query, once the ``request_started`` signal has reset the check, as it does in a server
(not in the test client); ``count_request`` resets it the way the signal does. Django's check
is a ``SELECT 1`` on the raw connection, counted here from ``is_usable()``; our backend
(helpdesk/postgresql) sends it only when the connection's socket has something waiting (the
server ended the session), so a healthy connection's check counts nothing, and the bare
project, on Django's own backend, pays its ``SELECT 1`` on every request.

``statements`` are the cursor's and the health checks, as
tests/routing/test_routing_query_count.py counts them;
``statements_with_begin_commit`` adds the ``BEGIN`` and ``COMMIT`` (or ``ROLLBACK``) of each
explicit transaction, what the server receives. ``savepoint_statements`` are those naming a
savepoint (``SAVEPOINT``, ``RELEASE SAVEPOINT``, ``ROLLBACK TO SAVEPOINT``), the test's
"savepoints"; ``savepoints`` only the ``SAVEPOINT``s.
"""

from collections import Counter
from contextlib import contextmanager


class SqlCounts:
    def __init__(self) -> None:
        self.executed: list[str] = []
        self.kinds: Counter[str] = Counter()
        self.autocommit = 0
        self.commits = 0
        self.rollbacks = 0

    def summary(self) -> dict:
        explicit = self.commits + self.rollbacks
        return {
            "statements": len(self.executed),
            "statements_with_begin_commit": len(self.executed) + 2 * explicit,
            "transactions": explicit + self.autocommit,
            "explicit_transactions": explicit,
            "autocommit_statements": self.autocommit,
            "savepoints": self.kinds["SAVEPOINT"],
            "savepoint_statements": self.kinds["SAVEPOINT"]
            + self.kinds["RELEASE"]
            + self.kinds["ROLLBACK TO"],
            "by_kind": dict(sorted(self.kinds.items())),
        }


def _kind(sql: str) -> str:
    words = sql.lstrip().split(None, 2)
    first = words[0].upper() if words else ""
    if first == "ROLLBACK" and len(words) > 1 and words[1].upper() == "TO":
        return "ROLLBACK TO"
    return first


@contextmanager
def count_sql(connection):
    """Count what ``connection`` (a Django connection, not the proxy) sends inside the block."""
    from django.utils.connection import ConnectionProxy

    if isinstance(connection, ConnectionProxy):  # django.db.connection: wrap the real one
        connection = connection._connections[connection._alias]
    counts = SqlCounts()

    def wrapper(execute, sql, params, many, context):
        counts.executed.append(sql)
        counts.kinds[_kind(sql)] += 1
        if connection.get_autocommit():
            counts.autocommit += 1
        return execute(sql, params, many, context)

    real_commit, real_rollback = connection.commit, connection.rollback
    real_is_usable = connection.is_usable

    def is_usable():
        counts.executed.append("SELECT 1 -- health check")
        counts.kinds["SELECT"] += 1
        counts.autocommit += 1
        return real_is_usable()

    def commit():
        counts.commits += 1
        return real_commit()

    def rollback():
        counts.rollbacks += 1
        return real_rollback()

    connection.commit, connection.rollback, connection.is_usable = commit, rollback, is_usable
    try:
        with connection.execute_wrapper(wrapper):
            yield counts
    finally:
        del connection.commit, connection.rollback, connection.is_usable


@contextmanager
def count_request(connection):
    """``count_sql`` around one request through Django's test client, with the connection's
    health check due as a server's ``request_started`` makes it (``close_old_connections``)."""
    from django.db import close_old_connections

    close_old_connections()
    with count_sql(connection) as counts:
        yield counts
