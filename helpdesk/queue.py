"""The one way to enqueue a Celery task: after the surrounding transaction commits.

A task enqueued inside a transaction could run before the rows it needs are visible, or for rows
that are then rolled back. Publishing failures (the broker is down) are logged, not raised: every
task enqueued here has a durable record (an outbox row) that a periodic sweep enqueues again.
"""

import logging
from functools import partial

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, *args, using: str | None = None) -> None:
    """Send ``task(*args)`` once the current transaction commits (at once outside of one)."""
    transaction.on_commit(partial(_send, task, args), using=using)


def _send(task: Task, args: tuple) -> None:
    try:
        task.delay(*args)
    except Exception:  # the broker's client raises many types; all mean "not sent"
        logger.warning("Could not enqueue %s%r; the periodic sweep will retry", task.name, args)
