"""Writes on tickets. Each change records its timeline entry and outbox event in one transaction."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Contact, Customer, User
from tickets.models import Ticket, TicketEvent, TimelineEntry
from tickets.outbox import event_record

# Fields a person (or a routing action) may change after creation.
UPDATABLE_FIELDS = frozenset(
    {"kind", "subject", "description", "contact", "product", "priority", "status", "assignee"}
)
_FOREIGN_KEYS = {"contact", "assignee"}


def _check_contact(customer: Customer, contact: Contact | None) -> None:
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": "This contact does not belong to the ticket's customer."})


def _rma_number(ticket: Ticket) -> str:
    # Derived from the primary key, so it is unique without a second counter to keep in step.
    return f"RMA-{ticket.pk:06d}"


@transaction.atomic
def ticket_create(
    *,
    customer: Customer,
    kind: str,
    channel: str,
    subject: str,
    description: str = "",
    contact: Contact | None = None,
    product: str = "",
    priority: str = Ticket.Priority.NORMAL,
    assignee: User | None = None,
    created_by: User | None = None,
) -> Ticket:
    """Create a ticket with its first timeline entry and its ``ticket.created`` event."""
    _check_contact(customer, contact)
    ticket = Ticket(
        customer=customer,
        contact=contact,
        kind=kind,
        channel=channel,
        subject=subject,
        description=description,
        product=product,
        priority=priority,
        assignee=assignee,
        created_by=created_by,
    )
    ticket.full_clean()
    ticket.save()
    if ticket.kind == Ticket.Kind.RMA:
        ticket.rma_number = _rma_number(ticket)
        ticket.save(update_fields=["rma_number"])
    TimelineEntry.objects.create(
        ticket=ticket, kind=TimelineEntry.Kind.CREATED, author=created_by, body=description
    )
    event_record(ticket=ticket, type=TicketEvent.Type.CREATED, actor=created_by)
    return ticket


def _plain(value):
    """A JSON-friendly form of a field value for timelines and event payloads."""
    return value.pk if hasattr(value, "pk") else value


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor: User | None,
    caused_by: TicketEvent | None = None,
    reason: str = "",
    **fields,
) -> Ticket:
    """Change fields of a ticket; record who changed what, and emit events for what changed.

    A status change emits ``ticket.status_changed``; any other change ``ticket.updated``.
    ``caused_by`` marks a change made automatically while handling an earlier event.
    """
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    changes = {}
    for name, value in fields.items():
        old = getattr(locked, name)
        if old != value:
            changes[name] = [_plain(old), _plain(value)]
            setattr(locked, name, value)
    if not changes:
        return locked
    if "contact" in changes:
        _check_contact(locked.customer, locked.contact)
    if "status" in changes:
        _apply_status_side_effects(locked)
    if locked.kind == Ticket.Kind.RMA and not locked.rma_number:
        locked.rma_number = _rma_number(locked)
    locked.full_clean()
    locked.save()

    status_change = {"status": changes.pop("status")} if "status" in changes else None
    for kind, change in (
        (TimelineEntry.Kind.STATUS_CHANGE, status_change),
        (TimelineEntry.Kind.FIELD_CHANGE, changes or None),
    ):
        if change is None:
            continue
        TimelineEntry.objects.create(
            ticket=locked, kind=kind, author=actor, body=reason, changes=change
        )
        event_type = (
            TicketEvent.Type.STATUS_CHANGED
            if kind == TimelineEntry.Kind.STATUS_CHANGE
            else TicketEvent.Type.UPDATED
        )
        event_record(
            ticket=locked, type=event_type, actor=actor, changes=change, caused_by=caused_by
        )
    return locked


def _apply_status_side_effects(ticket: Ticket) -> None:
    if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        ticket.resolved_at = ticket.resolved_at or timezone.now()
    else:
        ticket.resolved_at = None


@transaction.atomic
def note_add(
    *,
    ticket: Ticket,
    author: User | None,
    body: str,
    is_internal: bool = True,
    call_duration_seconds: int | None = None,
) -> TimelineEntry:
    """Record a note, or a call when a duration is given, and emit ``ticket.note_added``."""
    if not body.strip():
        raise ValidationError({"body": "A note cannot be empty."})
    entry = TimelineEntry.objects.create(
        ticket=ticket,
        kind=TimelineEntry.Kind.CALL
        if call_duration_seconds is not None
        else TimelineEntry.Kind.NOTE,
        author=author,
        body=body,
        is_internal=is_internal,
        call_duration_seconds=call_duration_seconds,
    )
    # Touch updated_at: a note is activity on the ticket.
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
    event_record(
        ticket=ticket,
        type=TicketEvent.Type.NOTE_ADDED,
        actor=author,
        changes={"entry_id": entry.pk, "is_internal": is_internal},
    )
    return entry
