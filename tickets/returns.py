"""Returns (RMA tickets): what shipping needs to know, and the steps it takes them through."""

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from tickets.models import Ticket, TicketEvent, TimelineEntry
from tickets.outbox import event_record
from tickets.services import TRACKING_KEY, entry_search_words, search_text_append

RETURN_DETAILS = ("rma_serial_number", "rma_order_number", "rma_reason")

# A return moves forward only; a replacement or a refund ends it, one or the other.
RMA_STEP_ORDER: dict[str, int] = {
    Ticket.RmaStatus.AUTHORISED: 0,
    Ticket.RmaStatus.AWAITING_RETURN: 1,
    Ticket.RmaStatus.RECEIVED: 2,
    Ticket.RmaStatus.INSPECTED: 3,
    Ticket.RmaStatus.REPLACEMENT_SHIPPED: 4,
    Ticket.RmaStatus.REFUNDED: 4,
}


def rma_reachable_steps(current: str) -> list[str]:
    """The steps a return now at ``current`` (empty: none yet) may move to, in order: only
    those ahead of it, as ``rma_advance`` allows."""
    here = RMA_STEP_ORDER.get(current, -1)
    return [value for value in Ticket.RmaStatus.values if RMA_STEP_ORDER[value] > here]


def missing_return_details(values: Mapping) -> dict[str, str]:
    """The return details missing from ``values``, each with its message (the rep's forms and
    Log a call ask for all three; the API and email intake may leave them to shipping)."""
    return {
        name: "Needed for a return."
        for name in RETURN_DETAILS
        if not str(values.get(name) or "").strip()
    }


def latest_tracking(entries: Iterable[TimelineEntry]) -> str:
    """The carrier and tracking number of the return's latest parcel ("UPS 1Z999..."), from
    the ticket's timeline entries in order; empty if shipping has recorded none."""
    tracking = ""
    for entry in entries:
        if entry.kind == TimelineEntry.Kind.RMA and TRACKING_KEY in (entry.changes or {}):
            tracking = entry.changes[TRACKING_KEY][-1] or tracking
    return tracking


@transaction.atomic
def rma_advance(
    *,
    ticket: Ticket,
    status: str,
    actor: User | None,
    carrier: str = "",
    tracking_number: str = "",
    note: str = "",
) -> Ticket:
    """Move a return to its next step (shipping's work), with the carrier's tracking number
    where a parcel moves; recorded on the timeline and as a ``ticket.updated`` event."""
    locked = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
    if locked.kind != Ticket.Kind.RMA:
        raise ValidationError({"status": "Only returns (RMA tickets) have return steps."})
    if status not in Ticket.RmaStatus.values:
        raise ValidationError({"status": "Choose a return step."})
    current = locked.get_rma_status_display()
    if status == locked.rma_status:
        raise ValidationError({"status": f"The return is already {current}."})
    if status not in rma_reachable_steps(locked.rma_status):
        raise ValidationError({"status": f"The return is already {current}: steps go forward."})
    if tracking_number and not carrier:
        raise ValidationError({"carrier": "Say which carrier the tracking number is for."})
    old = locked.rma_status
    change: dict[str, list[str | None]] = {"return status": [old, status]}
    if tracking_number:
        change[TRACKING_KEY] = [None, f"{carrier} {tracking_number}"]
    TimelineEntry.objects.create(
        ticket=locked, kind=TimelineEntry.Kind.RMA, author=actor, body=note, changes=change
    )
    locked.rma_status = status
    locked.version += 1
    locked.save(update_fields=["rma_status", "version", "updated_at"])
    # The note and the tracking number are found by the search box.
    search_text_append(
        ticket_id=locked.pk,
        words=entry_search_words(kind=TimelineEntry.Kind.RMA, body=note, changes=change),
    )
    event_record(
        ticket=locked,
        type=TicketEvent.Type.UPDATED,
        actor=actor,
        changes={"rma_status": [old, status]},
    )
    return locked
