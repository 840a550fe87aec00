"""Celery tasks of routing: thin wrappers that take an id (or nothing) and call a service.

Every task is bounded by CELERY_TASK_SOFT_TIME_LIMIT and CELERY_TASK_TIME_LIMIT; the delivery
tasks by tighter limits of their own, a little above their calls' deadlines.
"""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from routing import deliveries, timers

_DELIVERY_TASK = {
    "acks_late": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "max_retries": 5,
    "soft_time_limit": settings.DELIVERY_TASK_SOFT_TIME_LIMIT,
    "time_limit": settings.DELIVERY_TASK_TIME_LIMIT,
}


@shared_task(name="routing.tasks.send_email_delivery", **_DELIVERY_TASK)
def send_email_delivery(delivery_id: int) -> str:
    return deliveries.email_deliver(delivery_id=delivery_id)


@shared_task(name="routing.tasks.call_webhook_delivery", **_DELIVERY_TASK)
def call_webhook_delivery(delivery_id: int) -> str:
    return deliveries.webhook_deliver(delivery_id=delivery_id)


@shared_task(name="routing.tasks.sweep_deliveries", acks_late=True)
def sweep_deliveries() -> int:
    return deliveries.deliveries_sweep()


@shared_task(name="routing.tasks.sweep_timers", acks_late=True)
def sweep_timers() -> int:
    return timers.timers_sweep()


@shared_task(name="routing.tasks.sweep_queues", acks_late=True)
def sweep_queues() -> dict:
    from routing.followups import followups_remind
    from routing.queues import queues_escalate, queues_send_digests

    return {
        "escalated": queues_escalate(),
        "digests": queues_send_digests(),
        "reminders": followups_remind(),
    }
