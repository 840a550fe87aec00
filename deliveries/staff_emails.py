"""Emails to members of staff about their work (queue items, digests, escalations, reminders).

Each is an ``EmailDelivery`` with a unique ``key`` naming what it is about, sent after commit by
the same task as rules' emails: storing the same one twice finds the row and sends nothing more.
"""

from django.conf import settings
from django.db import IntegrityError, transaction

from deliveries.models import EmailDelivery
from helpdesk.queue import enqueue_on_commit


def site_link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def staff_email(*, key: str, recipient: str, subject: str, body: str, ticket=None) -> bool:
    """Store an email to a member of staff, once per ``key``; True if it is new."""
    from deliveries.tasks import send_email_delivery

    if not recipient:
        return False
    try:
        with transaction.atomic():
            delivery = EmailDelivery.objects.create(
                key=key, recipient=recipient, subject=subject[:250], body=body, ticket=ticket
            )
    except IntegrityError:
        return False
    enqueue_on_commit(send_email_delivery, delivery.pk)
    return True


def keys_stored(prefix: str) -> set[str]:
    """The staff emails already stored whose key starts with ``prefix`` (one query)."""
    keys = EmailDelivery.objects.filter(key__startswith=prefix).values_list("key", flat=True)
    return {key for key in keys if key}
