from celery import shared_task

from surveys.services import surveys_send_due


@shared_task(name="surveys.tasks.send_due_surveys", acks_late=True)
def send_due_surveys() -> int:
    """Beat: send the surveys whose delay has passed (each once: a sent survey is marked in the
    transaction that queues its email)."""
    return surveys_send_due()
