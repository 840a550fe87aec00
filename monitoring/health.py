"""The readiness checks behind /readyz and ``manage.py readyz``: each answers whether one thing
works, with no detail a stranger could use (no host names, no counts).

Which checks a probe asks for depends on who acts on the answer. A load balancer taking web
processes out of rotation should ask only what a web process needs to serve (``database``,
``migrations``): a broker outage or a routing backlog is no reason to stop serving pages, as
the outbox keeps every event until routing catches up, and failing every web process at once
would turn a slow worker into an outage. All four together say whether the whole pipeline is
healthy, for an uptime check or a person.

Verdicts are kept for READYZ_CACHE_SECONDS, so that probes arriving often (or a stranger
calling the unauthenticated URL in a loop) cost the database one round of queries per period.
"""

import logging
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from helpdesk.celery import app as celery_app
from tickets.selectors import events_outbox_state

logger = logging.getLogger(__name__)

# Once every migration is applied it stays so for the life of the process (a deploy that brings
# new ones restarts it): checked again only until it first holds.
_migrated = False
# Check name -> (when it was run, on the monotonic clock; its verdict).
_recent: dict[str, tuple[float, bool]] = {}


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
    """No ticket event routing still retries has waited longer than READYZ_OUTBOX_LAG_SECONDS
    (one the sweep gave up on is an alert of its own, switchboard_outbox_given_up, and must not
    keep the pipeline "not ready" until a person acts)."""
    return events_outbox_state()["lag_seconds"] <= settings.READYZ_OUTBOX_LAG_SECONDS


CHECKS: dict[str, Callable[[], bool]] = {
    "database": database_ok,
    "migrations": migrations_ok,
    "broker": broker_ok,
    "outbox": outbox_ok,
}


def check_names(values: Iterable[str]) -> list[str] | None:
    """The check names in comma-separated ``values`` (a query's ``only=``, a command's
    ``--only``), spaces and empty names dropped; None (every check) when there are none."""
    names = [name.strip() for value in values for name in value.split(",")]
    return [name for name in names if name] or None


def readiness(only: Iterable[str] | None = None) -> dict[str, bool]:
    """Each asked check's verdict (all of them unless ``only`` names some; an unknown name is a
    ValueError). One that cannot even run (the database down under the outbox check) fails;
    why is logged here, never answered."""
    names = list(CHECKS) if only is None else list(dict.fromkeys(only))
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        raise ValueError(f"Unknown checks: {', '.join(unknown)}; known: {', '.join(CHECKS)}.")
    ttl = settings.READYZ_CACHE_SECONDS
    verdicts = {}
    for name in names:
        cached = _recent.get(name)
        if cached is not None and time.monotonic() - cached[0] < ttl:
            verdicts[name] = cached[1]
            continue
        try:
            verdicts[name] = bool(CHECKS[name]())
        except Exception as exc:  # noqa: BLE001 - a check that cannot run has failed
            logger.warning("readiness check %s failed: %s", name, exc)
            verdicts[name] = False
        # Stamped when the check ended: one that took seconds (a broker not answering) is
        # still reused for the whole period, which is when probes must stay cheap.
        _recent[name] = (time.monotonic(), verdicts[name])
    return verdicts
