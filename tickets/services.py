"""Writes on tickets. Each change records its timeline entry and outbox event in one transaction."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_unicode_slug
from django.db import transaction
from django.utils import timezone

from accounts.models import Contact, Customer, Department, User
from tickets.models import Tag, Ticket, TicketEvent, TimelineEntry
from tickets.outbox import event_record

# Fields a person (or a routing action) may change after creation.
UPDATABLE_FIELDS = frozenset(
    {
        "kind",
        "subject",
        "description",
        "contact",
        "product",
        "priority",
        "status",
        "assignee",
        "department",
        "tags",
    }
)


def _check_contact(customer: Customer, contact: Contact | None) -> None:
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": "This contact does not belong to the ticket's customer."})


def _rma_number(ticket: Ticket) -> str:
    # Derived from the primary key, so it is unique without a second counter to keep in step.
    return f"RMA-{ticket.pk:06d}"


def clean_tag_names(names) -> list[str]:
    """Tag names lower-cased, de-duplicated and sorted; a ValidationError for a bad one."""
    cleaned = set()
    for name in names:
        name = str(name).strip().lower()
        try:
            validate_unicode_slug(name)
        except ValidationError:
            message = f"{name!r} is not a valid tag: use letters, numbers, - and _."
            raise ValidationError({"tags": message}) from None
        if len(name) > 50:
            raise ValidationError({"tags": f"{name!r} is longer than 50 characters."})
        cleaned.add(name)
    return sorted(cleaned)


def _set_tags(ticket: Ticket, names: list[str]) -> None:
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    ticket.tags.set(Tag.objects.filter(name__in=names))


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
    department: Department | None = None,
    tags: list[str] | None = None,
    created_by: User | None = None,
) -> Ticket:
    """Create a ticket with its first timeline entry and its ``ticket.created`` event."""
    _check_contact(customer, contact)
    tag_names = clean_tag_names(tags or [])
    now = timezone.now()
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
        department=department,
        created_by=created_by,
        status_changed_at=now,
    )
    ticket.full_clean()
    ticket.save()
    if ticket.kind == Ticket.Kind.RMA:
        ticket.rma_number = _rma_number(ticket)
        ticket.save(update_fields=["rma_number"])
    if tag_names:
        _set_tags(ticket, tag_names)
    TimelineEntry.objects.create(
        ticket=ticket, kind=TimelineEntry.Kind.CREATED, author=created_by, body=description
    )
    event_record(ticket=ticket, type=TicketEvent.Type.CREATED, actor=created_by)
    return ticket


def natural_value(value):
    """How a field value is written in timelines and events: users by username, departments by
    slug (the names rules use), other rows by primary key."""
    if isinstance(value, User):
        return value.username
    if isinstance(value, Department):
        return value.slug
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
    ``tags`` replaces the ticket's tags with the given names.
    """
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("customer", "assignee", "department")
        .get(pk=ticket.pk)
    )
    changes = {}
    new_tags = None
    if "tags" in fields:
        new_tags = clean_tag_names(fields.pop("tags"))
        old_tags = sorted(locked.tags.values_list("name", flat=True))
        if new_tags != old_tags:
            changes["tags"] = [old_tags, new_tags]
    for name, value in fields.items():
        old = getattr(locked, name)
        if old != value:
            changes[name] = [natural_value(old), natural_value(value)]
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
    if "tags" in changes:
        _set_tags(locked, new_tags)

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
    now = timezone.now()
    ticket.status_changed_at = now
    if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        ticket.resolved_at = ticket.resolved_at or now
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
    """Record a note, or a call when a duration is given, and emit ``ticket.note_added``.

    A call, or a note to the customer, written by a member of staff is the ticket's first
    response if it has none yet.
    """
    if not body.strip():
        raise ValidationError({"body": "A note cannot be empty."})
    is_call = call_duration_seconds is not None
    entry = TimelineEntry.objects.create(
        ticket=ticket,
        kind=TimelineEntry.Kind.CALL if is_call else TimelineEntry.Kind.NOTE,
        author=author,
        body=body,
        is_internal=is_internal,
        call_duration_seconds=call_duration_seconds,
    )
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    if author is not None and (is_call or not is_internal):
        Ticket.objects.filter(pk=ticket.pk, first_response_at__isnull=True).update(
            first_response_at=now
        )
    ticket.refresh_from_db()
    event_record(
        ticket=ticket,
        type=TicketEvent.Type.NOTE_ADDED,
        actor=author,
        changes={"entry_id": entry.pk, "is_internal": is_internal, "is_call": is_call},
    )
    return entry
