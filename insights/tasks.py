"""Celery tasks of insights: the monthly root-cause digest, sent by beat."""

from celery import shared_task

from insights.digest import root_cause_digests_send


@shared_task(name="insights.tasks.send_root_cause_digests", acks_late=True)
def send_root_cause_digests() -> int:
    """Beat, every INSIGHTS_DIGEST_SWEEP_SECONDS: the last month's digests once they are due,
    each stored once (a run after they are all stored sends nothing)."""
    return root_cause_digests_send()

