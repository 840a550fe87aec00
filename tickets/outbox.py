"""The transactional outbox of ticket events, and the registry of those who subscribe to it.

``tickets`` does not know who listens: other apps call ``subscribe()`` from their
``AppConfig.ready()``. Delivery is at least once (a task on commit, then the periodic sweep), so
each subscriber must make handling the same event twice have the effect of handling it once.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from helpdesk.queue import enqueue_on_commit
from tickets.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)

EventHandler = Callable[[TicketEvent], None]
_subscribers: list[EventHandler] = []

# The ticket fields recorded with every event, as rules see them.
SNAPSHOT_FIELDS = (
    "kind",
    "channel",
    "priority",
    "status",
    "product",
    "subject",
    "description",
    "customer_id",
    "contact_id",
)
SNAPSHOT_TIMES = ("created_at", "updated_at", "status_changed_at", "first_response_at")

# An event that keeps failing is left alone after this many attempts and logged as an error, so
# one poisonous event cannot occupy the workers forever.
MAX_DISPATCH_ATTEMPTS = 10


def subscribe(handler: EventHandler) -> None:
    """Register ``handler`` to receive every ticket event (idempotent)."""
    if handler not in _subscribers:
        _subscribers.append(handler)


def ticket_snapshot(ticket: Ticket) -> dict:
    """The ticket as rules see it: plain values, people and teams by the names rules use."""
    snapshot = {field: getattr(ticket, field) for field in SNAPSHOT_FIELDS}
    for field in SNAPSHOT_TIMES:
        value = getattr(ticket, field)
        snapshot[field] = value.isoformat() if value else None
    snapshot["assignee"] = ticket.assignee.username if ticket.assignee_id else None
    snapshot["department"] = ticket.department.slug if ticket.department_id else None
    # .all() so that a prefetched list is used when the caller loaded many tickets at once.
    snapshot["tags"] = sorted(tag.name for tag in ticket.tags.all())
    return snapshot


def event_record(
    *,
    ticket: Ticket,
    type: str,
    actor=None,
    changes: dict | None = None,
    caused_by: TicketEvent | None = None,
) -> TicketEvent:
    """Write an event in the caller's transaction and enqueue its dispatch for after commit."""
    event = TicketEvent.objects.create(
        ticket=ticket,
        type=type,
        actor=actor,
        snapshot=ticket_snapshot(ticket),
        changes=changes or {},
        caused_by=caused_by,
        depth=caused_by.depth + 1 if caused_by else 0,
    )
    from tickets.tasks import dispatch_event  # the task module imports this one

    enqueue_on_commit(dispatch_event, event.pk)
    return event


def event_dispatch(*, event_id: int) -> bool:
    """Hand an event to every subscriber, then mark it dispatched. False if nothing was to do."""
    event = TicketEvent.objects.select_related("ticket").filter(pk=event_id).first()
    if event is None or event.dispatched_at is not None:
        return False
    TicketEvent.objects.filter(pk=event_id).update(dispatch_attempts=F("dispatch_attempts") + 1)
    for handler in _subscribers:
        handler(event)
    TicketEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now()
    )
    return True


def events_sweep() -> int:
    """Enqueue again the events still undispatched after the grace period; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.OUTBOX_REDISPATCH_AFTER_SECONDS)
    pending = TicketEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff)
    stuck = pending.filter(dispatch_attempts__gte=MAX_DISPATCH_ATTEMPTS).count()
    if stuck:
        logger.error(
            "%d ticket events failed %d dispatches; see docs/operations.md",
            stuck,
            MAX_DISPATCH_ATTEMPTS,
        )
    event_ids = list(
        pending.filter(dispatch_attempts__lt=MAX_DISPATCH_ATTEMPTS)
        .order_by("created_at", "id")
        .values_list("id", flat=True)[: settings.OUTBOX_SWEEP_BATCH]
    )
    from tickets.tasks import dispatch_event

    for event_id in event_ids:
        enqueue_on_commit(dispatch_event, event_id)
    return len(event_ids)
