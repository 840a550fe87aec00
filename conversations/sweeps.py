"""The periodic safety net: a stored message whose processing task was lost is processed."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from conversations.models import InboundMessage
from helpdesk.queue import enqueue_on_commit


def inbound_sweep() -> int:
    """Enqueue again the processing of every message still pending
    OUTBOX_REDISPATCH_AFTER_SECONDS after it was stored (its task was lost: the broker was
    down, a worker died); how many."""
    from conversations.tasks import process_inbound

    grace = timezone.now() - timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER_SECONDS)
    ids = list(
        InboundMessage.objects.filter(
            status=InboundMessage.Status.PENDING, received_at__lte=grace
        ).values_list("id", flat=True)[: settings.OUTBOX_SWEEP_BATCH]
    )
    for inbound_id in ids:
        enqueue_on_commit(process_inbound, inbound_id)
    return len(ids)
