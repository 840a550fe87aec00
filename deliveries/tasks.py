"""Celery tasks of deliveries: thin wrappers that take an id (or nothing) and call a service.

Their names stay those they had when they lived in routing, so messages queued before a
release still find them. The delivery tasks are bounded by limits of their own, a little above
their calls' deadlines.
"""

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from deliveries import services

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
    return services.email_deliver(delivery_id=delivery_id)


@shared_task(name="deliveries.tasks.send_email_deliveries", **_DELIVERY_TASK)
def send_email_deliveries(delivery_ids: list[int]) -> dict[str, str]:
    statuses = services.emails_deliver(delivery_ids=delivery_ids)
    return {str(pk): status for pk, status in statuses.items()}


@shared_task(name="routing.tasks.call_webhook_delivery", **_DELIVERY_TASK)
def call_webhook_delivery(delivery_id: int) -> str:
    return services.webhook_deliver(delivery_id=delivery_id)


@shared_task(name="routing.tasks.sweep_deliveries", acks_late=True)
def sweep_deliveries() -> int:
    return services.deliveries_sweep()
