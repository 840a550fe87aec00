"""The one way to enqueue a Celery task: after the surrounding transaction commits.

A task enqueued inside a transaction could run before the rows it needs are visible, or for rows
that are then rolled back. Publishing failures (the broker is down) are logged, not raised: every
task enqueued here has a durable record (an outbox row) that a periodic sweep enqueues again.
"""

import logging
from functools import partial

from celery import Task
from django.core.cache import caches
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(
    task: Task, *args, using: str | None = None, unless_queued: str = "", seconds: int = 0
) -> None:
    """Send ``task(*args)`` once the current transaction commits (at once outside of one).

    ``unless_queued``: a flag name. The task is not sent while another sent under that flag
    has not started (for at most ``seconds``), because that one will find this work too; the
    task calls ``started(flag)`` before it looks for work, so what commits after that sends
    again. For work a task finds by itself (waiting rows), when a message per row costs more
    than the work: the flag lives in the cache every process shares (``task-flags``).
    """
    if unless_queued and seconds and not task.app.conf.task_always_eager:
        send = partial(_send_unless_queued, task, args, unless_queued, seconds)
    else:
        send = partial(_send, task, args)
    transaction.on_commit(send, using=using)


def started(flag: str) -> None:
    """A task sent under ``flag`` is about to look for its work: the next commit sends again."""
    try:
        caches["task-flags"].delete(flag)
    except Exception:  # an unreachable cache: the flag expires on its own
        logger.warning("Could not clear the task flag %s", flag)


def _send_unless_queued(task: Task, args: tuple, flag: str, seconds: int) -> None:
    try:
        if not caches["task-flags"].add(flag, 1, timeout=seconds):
            return
    except Exception:  # an unreachable cache: send, as without the flag
        logger.warning("Could not check the task flag %s; sending %s", flag, task.name)
    if not _send(task, args):
        started(flag)  # nothing queued stands behind the flag


def _send(task: Task, args: tuple) -> bool:
    try:
        task.delay(*args)
    except Exception:  # the broker's client raises many types; all mean "not sent"
        logger.warning("Could not enqueue %s%r; the periodic sweep will retry", task.name, args)
        return False
    return True
