"""Writes on tickets. Each change records its timeline entry and outbox event in one transaction."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_unicode_slug
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from accounts.models import Contact, Customer, Department, User
from tickets.limits import TAG_MAX_LENGTH, TAGS_MAX_PER_TICKET, TEXT_MAX_LENGTH
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
        "root_cause",
        "resolution",
        "rma_serial_number",
        "rma_order_number",
        "rma_reason",
    }
)
RESOLUTION_FIELDS = ("root_cause", "resolution")


class TicketChanged(Exception):
    """The ticket was changed by someone else since the version the caller edited."""

    def __init__(self, ticket: Ticket):
        self.ticket = ticket
        last = (
            ticket.timeline.filter(
                kind__in=[TimelineEntry.Kind.FIELD_CHANGE, TimelineEntry.Kind.STATUS_CHANGE]
            )
            .select_related("author")
            .order_by("-created_at", "-id")
            .first()
        )
        editor = str(last.author) if last and last.author else "someone else"
        at = timezone.localtime(ticket.updated_at).strftime("%H:%M:%S")
        super().__init__(
            f"{ticket.reference} was changed by {editor} at {at} while you were editing it. "
            "Your changes were not saved: check the ticket as it is now and apply them again."
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
        if len(name) > TAG_MAX_LENGTH:
            message = f"{name[:20]!r}… is longer than {TAG_MAX_LENGTH} characters."
            raise ValidationError({"tags": message})
        cleaned.add(name)
    if len(cleaned) > TAGS_MAX_PER_TICKET:
        message = f"At most {TAGS_MAX_PER_TICKET} tags on a ticket (this has {len(cleaned)})."
        raise ValidationError({"tags": message})
    return sorted(cleaned)


def check_text_lengths(**texts) -> None:
    """A ValidationError naming each text longer than ``TEXT_MAX_LENGTH``. The forms and the
    API check first; this keeps every other caller (routing's answers and follow-ups, the
    admin) within what the search index can hold too."""
    errors = {
        name: f"At most {TEXT_MAX_LENGTH:,} characters (this has {len(text):,})."
        for name, text in texts.items()
        if isinstance(text, str) and len(text) > TEXT_MAX_LENGTH
    }
    if errors:
        raise ValidationError(errors)


def _set_tags(ticket: Ticket, names: list[str], *, is_new: bool = False) -> None:
    """Give the ticket exactly the tags ``names``, creating the tags not seen before.

    ``is_new``: the ticket has just been created, so it has no tags to compare with.
    """
    tags = list(Tag.objects.filter(name__in=names))
    if len(tags) < len(names):
        known = {tag.name for tag in tags}
        missing = [Tag(name=name) for name in names if name not in known]
        # ignore_conflicts leaves the new rows without ids (and another writer may have added
        # the same tag meanwhile): read them all back.
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        tags = list(Tag.objects.filter(name__in=names))
    if is_new:
        ticket.tags.add(*tags)
    else:
        ticket.tags.set(tags)


def _loaded_relations(instance) -> list[str]:
    """The foreign keys of ``instance`` that hold a row loaded from the database.

    ``full_clean()`` would select each of them again to check that it exists; the caller loaded
    it a moment ago, and the constraint still guards the insert.
    """
    loaded = []
    for field in instance._meta.concrete_fields:
        if not field.is_relation or not field.is_cached(instance):
            continue
        row = field.get_cached_value(instance)
        if row is not None and not row._state.adding and row.pk is not None:
            loaded.append(field.name)
    return loaded


# What a person reads on a ticket, and so what the search box finds it by: its own words and
# numbers (a caller quotes the RMA, serial or order number), and what was said on it.
SEARCHED_FIELDS = (
    "subject",
    "description",
    "product",
    "rma_number",
    "rma_serial_number",
    "rma_order_number",
    "rma_reason",
    "resolution",
)
SEARCHED_ENTRY_KINDS = (
    TimelineEntry.Kind.NOTE,
    TimelineEntry.Kind.CALL,
    TimelineEntry.Kind.RESPONSE,  # a department's answer, written by the queues app
    TimelineEntry.Kind.FOLLOWUP,
    TimelineEntry.Kind.MESSAGE,  # what the customer wrote, and what was written to them
    TimelineEntry.Kind.RMA,  # shipping's notes, and the carrier's tracking number
)
# The timeline key a return step (tickets.returns.rma_advance) records a parcel's carrier and
# tracking number under.
TRACKING_KEY = "tracking number"
SEARCHED_CHANGES = (TRACKING_KEY,)


def _field_words(ticket: Ticket) -> list[str]:
    return [value for name in SEARCHED_FIELDS if (value := getattr(ticket, name) or "")]


def entry_search_words(*, kind: str, body: str, changes: dict | None) -> str:
    """The words a timeline entry adds to its ticket's search text ("" for none)."""
    if kind not in SEARCHED_ENTRY_KINDS:
        return ""
    changes = changes or {}
    added = [str(changes[key][-1]) for key in SEARCHED_CHANGES if changes.get(key)]
    return "\n".join(part for part in (body, *added) if part)


def search_text_for(ticket: Ticket) -> str:
    """What the search box finds a ticket by: see SEARCHED_FIELDS and SEARCHED_ENTRY_KINDS."""
    entries = ticket.timeline.filter(kind__in=SEARCHED_ENTRY_KINDS).order_by("created_at", "id")
    said = [
        entry_search_words(kind=kind, body=body, changes=changes)
        for kind, body, changes in entries.values_list("kind", "body", "changes")
    ]
    return "\n".join(part for part in [*_field_words(ticket), *said] if part)


def search_text_plus(words: str) -> Concat:
    """The ticket's search text with ``words`` added, in SQL (for an ``update()``), so that two
    writers at once both keep their words."""
    return Concat(F("search_text"), Value("\n" + words))


def search_text_append(*, ticket_id: int, words: str) -> None:
    if words:
        Ticket.objects.filter(pk=ticket_id).update(search_text=search_text_plus(words))


def ticket_create(**fields) -> Ticket:
    """Create a ticket with its first timeline entry and its ``ticket.created`` event (see
    ``ticket_open``)."""
    return ticket_open(**fields)[0]


def ticket_open(
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
    rma_serial_number: str = "",
    rma_order_number: str = "",
    rma_reason: str = "",
    call_duration_seconds: int | None = None,
) -> tuple[Ticket, TimelineEntry]:
    """Create a ticket with its first timeline entry and its ``ticket.created`` event: the
    ticket and that entry (which a message that opened the ticket is kept with).

    With ``call_duration_seconds`` the ticket is a call taken by ``created_by``: its first
    timeline entry records the call's length, and the call is the ticket's first response.

    Everything is checked before the first write, and the writes are one transaction. Called
    inside a caller's transaction (the API's, which validated the input in it) they join it
    without a savepoint of their own: a refusal leaves the caller's transaction usable, a
    database error fails it whole.
    """
    _check_contact(customer, contact)
    check_text_lengths(description=description)
    tag_names = clean_tag_names(tags or [])
    now = timezone.now()
    is_call = call_duration_seconds is not None
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
        rma_serial_number=rma_serial_number,
        rma_order_number=rma_order_number,
        rma_reason=rma_reason,
        first_response_at=now if is_call and created_by is not None else None,
    )
    ticket.search_text = "\n".join(_field_words(ticket))
    ticket.full_clean(exclude=_loaded_relations(ticket))
    # Savepoints cost two statements, and buy nothing here: the refusals are raised above.
    with transaction.atomic(savepoint=False):
        ticket.save()
        if ticket.kind == Ticket.Kind.RMA:
            ticket.rma_number = _rma_number(ticket)
            ticket.search_text = "\n".join(_field_words(ticket))
            ticket.save(update_fields=["rma_number", "search_text"])
        if tag_names:
            _set_tags(ticket, tag_names, is_new=True)
        entry = TimelineEntry.objects.create(
            ticket=ticket,
            kind=TimelineEntry.Kind.CREATED,
            author=created_by,
            body=description,
            call_duration_seconds=call_duration_seconds,
        )
        event_record(ticket=ticket, type=TicketEvent.Type.CREATED, actor=created_by, tags=tag_names)
    return ticket, entry


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
    expected_version: int | None = None,
    **fields,
) -> Ticket:
    """Change fields of a ticket; record who changed what, and emit events for what changed.

    A status change emits ``ticket.status_changed``; any other change ``ticket.updated``.
    ``caused_by`` marks a change made automatically while handling an earlier event.
    ``tags`` replaces the ticket's tags with the given names. With ``expected_version`` the
    change is refused (``TicketChanged``) if anyone changed the ticket since that version.
    Resolving or closing needs a root cause and a resolution summary; reopening clears them
    (the timeline keeps the old ones).
    """
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    check_text_lengths(
        **{name: fields[name] for name in ("description", "resolution") if name in fields}
    )
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("customer", "assignee", "department")
        .get(pk=ticket.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise TicketChanged(locked)
    changes = {}
    new_tags = None
    if "tags" in fields:
        new_tags = clean_tag_names(fields.pop("tags"))
        old_tags = sorted(locked.tags.values_list("name", flat=True))
        if new_tags != old_tags:
            changes["tags"] = [old_tags, new_tags]
    was_done = locked.status in Ticket.DONE_STATUSES
    for name, value in fields.items():
        old = getattr(locked, name)
        if old != value:
            changes[name] = [natural_value(old), natural_value(value)]
            setattr(locked, name, value)
    if not changes:
        return locked
    if "status" in changes:
        _check_resolution(locked, was_done, changes)
        _apply_status_side_effects(locked, was_done)
    elif changes.keys() & set(RESOLUTION_FIELDS) and locked.status in Ticket.DONE_STATUSES:
        # A resolved ticket keeps a root cause and a summary: they can be corrected, not erased.
        _check_resolution(locked, False, changes)

    if "contact" in changes:
        _check_contact(locked.customer, locked.contact)
    new_rma_number = locked.kind == Ticket.Kind.RMA and not locked.rma_number
    if new_rma_number:
        locked.rma_number = _rma_number(locked)
    locked.version += 1
    if new_rma_number or changes.keys() & set(SEARCHED_FIELDS):
        locked.search_text = search_text_for(locked)
    locked.full_clean()
    locked.save()
    if new_tags is not None and "tags" in changes:
        _set_tags(locked, new_tags)
    _record_changes(locked, changes, actor=actor, reason=reason, caused_by=caused_by)
    return locked


def _check_resolution(ticket: Ticket, was_done: bool, changes: dict) -> None:
    is_done = ticket.status in Ticket.DONE_STATUSES
    if is_done and not was_done:
        missing = {
            "root_cause": "Choose the root cause: the company measures why customers call.",
            "resolution": "Summarise the resolution.",
        }
        errors = {name: msg for name, msg in missing.items() if not getattr(ticket, name).strip()}
        if errors:
            raise ValidationError(errors)
    elif was_done and not is_done:
        for name in RESOLUTION_FIELDS:
            if getattr(ticket, name):
                changes[name] = [getattr(ticket, name), ""]
                setattr(ticket, name, "")


def _record_changes(ticket, changes: dict, *, actor, reason: str, caused_by) -> None:
    """One timeline entry and one event for the status (with its resolution), one for the rest."""
    status_change = None
    if "status" in changes:
        status_change = {"status": changes.pop("status")}
        for name in RESOLUTION_FIELDS:
            if name in changes:
                status_change[name] = changes.pop(name)
        if not reason and ticket.status in Ticket.DONE_STATUSES:
            reason = ticket.resolution
    for kind, change in (
        (TimelineEntry.Kind.STATUS_CHANGE, status_change),
        (TimelineEntry.Kind.FIELD_CHANGE, changes or None),
    ):
        if change is None:
            continue
        TimelineEntry.objects.create(
            ticket=ticket, kind=kind, author=actor, body=reason, changes=change
        )
        event_type = (
            TicketEvent.Type.STATUS_CHANGED
            if kind == TimelineEntry.Kind.STATUS_CHANGE
            else TicketEvent.Type.UPDATED
        )
        event_record(
            ticket=ticket, type=event_type, actor=actor, changes=change, caused_by=caused_by
        )


def _apply_status_side_effects(ticket: Ticket, was_done: bool) -> None:
    now = timezone.now()
    ticket.status_changed_at = now
    if ticket.status in Ticket.DONE_STATUSES:
        ticket.resolved_at = ticket.resolved_at or now
        ticket.first_resolved_at = ticket.first_resolved_at or now
    else:
        if was_done and ticket.first_reopened_at is None:
            ticket.first_reopened_at = now
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
    check_text_lengths(body=body)
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
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now, search_text=search_text_plus(body))
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


@transaction.atomic
def ticket_link(*, ticket: Ticket, other: Ticket, actor: User | None) -> bool:
    """Link two tickets about the same problem; both timelines say so. False if already linked."""
    if other.pk == ticket.pk:
        raise ValidationError({"related": "A ticket cannot be linked to itself."})
    if ticket.related.filter(pk=other.pk).exists():
        return False
    ticket.related.add(other)  # symmetrical: the other ticket lists this one too
    for one, two in ((ticket, other), (other, ticket)):
        TimelineEntry.objects.create(
            ticket=one,
            kind=TimelineEntry.Kind.LINK,
            author=actor,
            changes={"related": [None, two.reference]},
        )
    return True


@transaction.atomic
def timeline_record(
    *,
    ticket: Ticket,
    kind: str,
    body: str = "",
    changes: dict | None = None,
    author: User | None = None,
) -> TimelineEntry:
    """Record what another part of the company did about a ticket (routing, a department, a
    salesperson's follow-up). No event is emitted: these entries report on the ticket, they do
    not change it, and they stay internal. What a person reads in them (a department's answer,
    a follow-up's notes) is found by the search box."""
    check_text_lengths(body=body)
    entry = TimelineEntry.objects.create(
        ticket=ticket, kind=kind, body=body, changes=changes or {}, author=author
    )
    search_text_append(
        ticket_id=ticket.pk, words=entry_search_words(kind=kind, body=body, changes=changes)
    )
    return entry
