"""Celery tasks of routing: thin wrappers that call a service.

Every task is bounded by CELERY_TASK_SOFT_TIME_LIMIT and CELERY_TASK_TIME_LIMIT. Routing an
event is the ticket outbox's task (``tickets.tasks.dispatch_event``), which calls the subscribers.
"""

from celery import shared_task

from routing import timers


@shared_task(name="routing.tasks.sweep_timers", acks_late=True)
def sweep_timers() -> int:
    return timers.timers_sweep()
