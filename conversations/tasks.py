"""Celery tasks of the conversations: thin wrappers that take an id and call a service."""

from celery import shared_task
from django.db import DatabaseError

from conversations import processing, sweeps


@shared_task(
    name="conversations.tasks.process_inbound",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=8,
)
def process_inbound(inbound_id: int) -> str:
    return processing.inbound_process(inbound_id=inbound_id)


@shared_task(
    name="conversations.tasks.process_inbound_in_order",
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    max_retries=8,
)
def process_inbound_in_order(inbound_ids: list[int]) -> list[str]:
    """One sender's messages, one after the other, each in a transaction of its own: a reply
    to their own earlier message must find the ticket that one opened. (Each is processed
    once: a retry passes over those done.)"""
    return [processing.inbound_process(inbound_id=inbound_id) for inbound_id in inbound_ids]


@shared_task(name="conversations.tasks.sweep_inbound", acks_late=True)
def sweep_inbound() -> int:
    return sweeps.inbound_sweep()


@shared_task(name="conversations.tasks.poll_mailboxes", acks_late=True)
def poll_mailboxes() -> int:
    """Enqueue a poll of every IMAP mailbox that is due; how many."""
    from conversations.imap import mailboxes_due

    due = mailboxes_due()
    for mailbox_id in due:
        poll_mailbox.delay(mailbox_id)
    return len(due)


@shared_task(name="conversations.tasks.poll_mailbox", acks_late=True)
def poll_mailbox(mailbox_id: int) -> int:
    from conversations.imap import mailbox_poll

    try:
        return mailbox_poll(mailbox_id=mailbox_id)
    except Exception:  # recorded on the mailbox, retried by the next due poll with backoff
        return 0
