"""Emails to members of staff about their work (queue items, digests, escalations, reminders).

Each is an ``EmailDelivery`` with a unique ``key`` naming what it is about, sent after commit by
the same task as rules' emails: storing the same one twice finds the row and sends nothing more.
"""

import logging
from functools import partial

from django.conf import settings
from django.db import transaction

from deliveries.models import EmailDelivery
from helpdesk.queue import enqueue_on_commit
from routing.engine.rows import insert_or_get

logger = logging.getLogger(__name__)


def site_link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def staff_email_row(
    *, key: str, recipient: str, subject: str, body: str, ticket=None
) -> EmailDelivery | None:
    """The email, not yet stored (None without a recipient): routing stores the emails of one
    event in one statement, then sends the new ones together (``staff_emails_send_on_commit``)."""
    if not recipient:
        return None
    return EmailDelivery(
        key=key, recipient=recipient, subject=subject[:250], body=body, ticket=ticket
    )


def staff_email(*, key: str, recipient: str, subject: str, body: str, ticket=None) -> bool:
    """Store an email to a member of staff, once per ``key``; True if it is new."""
    from deliveries.tasks import send_email_delivery

    row = staff_email_row(key=key, recipient=recipient, subject=subject, body=body, ticket=ticket)
    if row is None:
        return False
    [(delivery, created)] = insert_or_get([row], unique=("key",))
    if created:
        enqueue_on_commit(send_email_delivery, delivery.pk)
    return created


def staff_emails_send_on_commit() -> list[int]:
    """A list to put the ids of newly stored staff emails in: they are sent when the
    transaction commits, by one task per EMAIL_BATCH_SIZE of them (a routed event's alerts to
    several members, or a batch of events' alerts), and not at all if it rolls back."""
    ids: list[int] = []
    transaction.on_commit(partial(_send_all, ids))
    return ids


def _send_all(ids: list[int]) -> None:
    from deliveries.tasks import send_email_deliveries

    size = settings.EMAIL_BATCH_SIZE
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        try:
            send_email_deliveries.apply_async((chunk,))
        except Exception:  # the broker's client raises many types; all mean "not sent"
            # The rows are stored: the deliveries sweep sends what is still pending.
            logger.warning(
                "Could not enqueue staff emails %r; the periodic sweep will retry", chunk
            )


def keys_stored(prefix: str) -> set[str]:
    """The staff emails already stored whose key starts with ``prefix`` (one query)."""
    keys = EmailDelivery.objects.filter(key__startswith=prefix).values_list("key", flat=True)
    return {key for key in keys if key}
