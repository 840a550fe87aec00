"""Reports may read from a replica (DATABASE_REPLICA_URL). Only what runs inside
``reports_on_replica()`` is sent there, and only reads: a report that was just refreshed by a
write, the session, the login, every form that saves, all keep to the primary, so nobody ever
reads back a change of their own from a replica that has not caught up yet."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import connections, transaction

REPLICA = "replica"
_reports: ContextVar[bool] = ContextVar("reports_on_replica", default=False)


@contextmanager
def reports_on_replica() -> Iterator[None]:
    token = _reports.set(True)
    try:
        yield
    finally:
        _reports.reset(token)


@contextmanager
def report_work_mem() -> Iterator[None]:
    """Run a report in a transaction on the database its reads go to, with PostgreSQL given
    DATABASE_REPORT_WORK_MEM per sort and hash: a report groups and sorts far more rows than a
    page of tickets, and at the server's default they spill to disk. SET LOCAL ends with the
    transaction, so a connection kept open never carries it into other requests."""
    alias = REPLICA if REPLICA in settings.DATABASES else "default"
    connection = connections[alias]
    if connection.vendor != "postgresql" or not settings.DATABASE_REPORT_WORK_MEM:
        yield
        return
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('work_mem', %s, true)", [settings.DATABASE_REPORT_WORK_MEM]
            )
        yield


def reads_from_replica(view: Callable) -> Callable:
    """A view whose reads (all of them: it only reads) may be served by the replica, with the
    memory a report needs (report_work_mem)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with reports_on_replica(), report_work_mem():
            return view(*args, **kwargs)

    # Kept through the decorators outside this one (functools.wraps copies it), so a test can
    # check that every report page is marked.
    wrapped.reads_from_replica = True  # type: ignore[attr-defined]
    return wrapped


class ReportReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reports.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary: objects from either may be related.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema through replication, never by migrating.
        return db == "default"
