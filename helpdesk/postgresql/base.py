"""Django's PostgreSQL backend with a health check that costs no round trip.

A kept connection (CONN_MAX_AGE with CONN_HEALTH_CHECKS) is checked once per request, before
its first query, so that a request after a database restart or a failover does not fail on a
connection the server has closed. Django checks with a ``SELECT 1``: one more statement and
one more transaction in every request and every task, the costliest part of a cheap one.

An idle connection's socket has nothing to read unless the server said something: a server
that ends a session (restart, ``pg_terminate_backend``, idle timeout, a proxy closing it) sends
its error and closes, and the socket turns readable. So a connection psycopg holds open whose
socket has nothing waiting is healthy as far as a ``SELECT 1`` could tell without a network
failure, which neither check sees before a timeout. When something is waiting (that, or a rare
notice) Django's own ``SELECT 1`` decides, and a broken connection is closed and replaced.
After an error in a request, Django's check (``is_usable``) is used unchanged.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and self._nothing_waiting()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _nothing_waiting(self) -> bool:
        """Whether the connection is open and its socket has nothing to read."""
        if self.connection.closed:
            return False
        try:
            poller = select.poll()  # not select(): a descriptor past 1024 is fine
            poller.register(self.connection.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except (OSError, ValueError, base.Database.Error):
            return False
