"""Celery tasks of the queues. Names stay those they had in routing, for messages in flight."""

from celery import shared_task

from queues.followups import followups_remind
from queues.services import queues_escalate, queues_send_digests


@shared_task(name="routing.tasks.sweep_queues", acks_late=True)
def sweep_queues() -> dict:
    return {
        "escalated": queues_escalate(),
        "digests": queues_send_digests(),
        "reminders": followups_remind(),
    }
