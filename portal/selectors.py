"""What a contact may see on the portal: their requests (or their colleagues', where the customer
shares them), and of each only the public conversation.

Public means what the customer said and what we said to them: the request itself, messages in
and out, and notes a rep made visible. Never internal notes, department responses, routing,
follow-ups or survey answers; no member of staff is named beyond a first name.
"""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from accounts.models import Contact
from conversations.models import Attachment, Message
from conversations.selectors import messages_for_entries
from tickets.models import MessageDirection, Ticket, TimelineEntry
from tickets.returns import latest_tracking

# How a ticket's status reads to the customer.
STATUS_WORDS = {
    Ticket.Status.NEW: "Received",
    Ticket.Status.OPEN: "We are working on it",
    Ticket.Status.PENDING: "Waiting for your answer",
    Ticket.Status.RESOLVED: "Solved",
    Ticket.Status.CLOSED: "Closed",
}


def visible_tickets(contact: Contact) -> QuerySet[Ticket]:
    if contact.customer.colleagues_see_tickets:
        tickets = Ticket.objects.filter(customer_id=contact.customer_id)
    else:
        tickets = Ticket.objects.filter(contact=contact)
    return tickets.select_related("contact").order_by("-created_at", "-id")


def visible_ticket(contact: Contact, ticket_id: int) -> Ticket | None:
    return visible_tickets(contact).select_related("customer").filter(pk=ticket_id).first()


@dataclass
class PublicEntry:
    when: object
    who: str
    from_customer: bool
    text: str
    attachments: list[Attachment] = field(default_factory=list)


def _staff_name(entry: TimelineEntry) -> str:
    author = entry.author
    return (author.first_name if author else "") or "Support team"


# The entries a contact may read: the request itself, and messages and notes not internal.
_PUBLIC_ENTRIES = Q(kind=TimelineEntry.Kind.CREATED) | Q(
    kind__in=[TimelineEntry.Kind.MESSAGE, TimelineEntry.Kind.NOTE], is_internal=False
)


def _is_public(ticket: Ticket, entry: TimelineEntry | None, message: Message | None) -> bool:
    """Whether the contact may read this entry (one of ``_PUBLIC_ENTRIES``) and what it carries.
    Mail from staff or a stranger threaded onto the ticket is not the customer's side of the
    conversation, and must not be shown as if they had written it."""
    if entry is None:
        return False
    if entry.kind == TimelineEntry.Kind.CREATED:
        return True
    if entry.is_internal or entry.kind not in (TimelineEntry.Kind.MESSAGE, TimelineEntry.Kind.NOTE):
        return False
    if message is not None and message.direction == MessageDirection.IN:
        return message.contact is not None and message.contact.customer_id == ticket.customer_id
    return True


def public_timeline(ticket: Ticket) -> list[PublicEntry]:
    entries = list(
        TimelineEntry.objects.filter(ticket=ticket)
        .filter(_PUBLIC_ENTRIES)
        .select_related("author")
        .order_by("created_at", "id")
    )
    messages = messages_for_entries([entry.pk for entry in entries])
    shown = []
    for entry in entries:
        message = messages.get(entry.pk)
        if not _is_public(ticket, entry, message):
            continue
        incoming = entry.kind == TimelineEntry.Kind.CREATED or (
            message is not None and message.direction == MessageDirection.IN
        )
        if message is not None:
            text = message.text_new or message.text or entry.body
        else:
            text = entry.body
        if entry.kind == TimelineEntry.Kind.CREATED and not text:
            text = ticket.description
        contact_name = (message.contact.name if message and message.contact else "") or (
            ticket.contact.name if ticket.contact else "You"
        )
        shown.append(
            PublicEntry(
                when=entry.created_at,
                who=contact_name if incoming else _staff_name(entry),
                from_customer=incoming,
                text=text,
                attachments=[a for a in message.attachments.all() if a.file] if message else [],
            )
        )
    return shown


def visible_attachment(ticket: Ticket, attachment_id: int) -> Attachment | None:
    """An attachment of the ticket's public conversation."""
    attachment = (
        Attachment.objects.select_related("message__entry", "message__contact")
        .filter(pk=attachment_id, message__ticket=ticket)
        .first()
    )
    if attachment is None or not attachment.file:
        return None
    message = attachment.message
    return attachment if _is_public(ticket, message.entry, message) else None


@dataclass
class ReturnProgress:
    number: str
    steps: list[tuple[str, str]]  # (label, "done" | "current" | "")
    tracking: str


def return_progress(ticket: Ticket) -> ReturnProgress | None:
    if ticket.kind != Ticket.Kind.RMA:
        return None
    # The return ends with a replacement or a refund, not both: the step not taken is left out.
    Step = Ticket.RmaStatus
    left_out = Step.REPLACEMENT_SHIPPED if ticket.rma_status == Step.REFUNDED else Step.REFUNDED
    path = [(value, label) for value, label in Step.choices if value != left_out]
    values = [value for value, _ in path]
    current = values.index(ticket.rma_status) if ticket.rma_status in values else -1
    steps = [
        (label, "done" if index < current else "current" if index == current else "")
        for index, (_, label) in enumerate(path)
    ]
    entries = TimelineEntry.objects.filter(ticket=ticket, kind=TimelineEntry.Kind.RMA).order_by(
        "created_at", "id"
    )
    return ReturnProgress(
        number=ticket.rma_number or "", steps=steps, tracking=latest_tracking(entries)
    )
