"""The readiness checks behind /readyz and ``manage.py readyz``: each answers whether one thing
this process needs works, with no detail a stranger could use (no host names, no counts)."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from helpdesk.celery import app as celery_app
from tickets.selectors import events_outbox_state

logger = logging.getLogger(__name__)

# Once every migration is applied it stays so for the life of the process (a deploy that brings
# new ones restarts it): checked again only until it first holds.
_migrated = False


def database_ok() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True


def migrations_ok() -> bool:
    global _migrated
    if not _migrated:
        executor = MigrationExecutor(connection)
        _migrated = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrated


def broker_ok() -> bool:
    """The broker answers (the embedded default has none: tasks run in the process)."""
    if celery_app.conf.task_always_eager:
        return True
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    return True


def outbox_ok() -> bool:
    """No ticket event has waited for routing longer than READYZ_OUTBOX_LAG_SECONDS."""
    return events_outbox_state()["lag_seconds"] <= settings.READYZ_OUTBOX_LAG_SECONDS


CHECKS: dict[str, Callable[[], bool]] = {
    "database": database_ok,
    "migrations": migrations_ok,
    "broker": broker_ok,
    "outbox": outbox_ok,
}


def readiness() -> dict[str, bool]:
    """Each check's verdict. One that cannot even run (the database down under the outbox
    check) fails; why is logged here, never answered."""
    verdicts = {}
    for name, check in CHECKS.items():
        try:
            verdicts[name] = bool(check())
        except Exception as exc:  # noqa: BLE001 - a check that cannot run has failed
            logger.warning("readiness check %s failed: %s", name, exc)
            verdicts[name] = False
    return verdicts
