"""Celery tasks of the ticket outbox: thin wrappers that take an id and call ``outbox``."""

from celery import shared_task
from django.db import DatabaseError

from helpdesk import log_context
from tickets import outbox


@shared_task(
    name="tickets.tasks.dispatch_event",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def dispatch_event(event_id: int) -> bool:
    # The event's id on every log line of its routing, and in the tasks routing enqueues.
    with log_context.bound(event_id=str(event_id)):
        return outbox.event_dispatch(event_id=event_id)


@shared_task(name="tickets.tasks.sweep_undispatched_events", acks_late=True)
def sweep_undispatched_events() -> int:
    return outbox.events_sweep()
