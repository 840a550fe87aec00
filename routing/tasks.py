"""Celery tasks of routing: thin wrappers that take an id (or nothing) and call a service."""

from celery import shared_task
from django.db import DatabaseError

from routing import deliveries, timers


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def send_email_delivery(delivery_id: int) -> str:
    return deliveries.email_deliver(delivery_id=delivery_id)


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def call_webhook_delivery(delivery_id: int) -> str:
    return deliveries.webhook_deliver(delivery_id=delivery_id)


@shared_task(acks_late=True)
def sweep_deliveries() -> int:
    return deliveries.deliveries_sweep()


@shared_task(acks_late=True)
def sweep_timers() -> int:
    return timers.timers_sweep()


@shared_task(acks_late=True)
def sweep_queues() -> dict:
    from routing.followups import followups_remind
    from routing.queues import queues_escalate, queues_send_digests

    return {
        "escalated": queues_escalate(),
        "digests": queues_send_digests(),
        "reminders": followups_remind(),
    }
