"""Phone calls: logging a call as a ticket, and a further call on one, timed by the server."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Contact, Customer, User
from accounts.services import contact_create
from tickets.models import Ticket, TimelineEntry
from tickets.returns import missing_return_details
from tickets.services import note_add, ticket_create, ticket_link, ticket_update

# A call is counted at most this long: beyond it the form was left open, not the line.
LONGEST_CALL_SECONDS = 8 * 3600


def call_seconds(started_at: datetime) -> int:
    """How long a call that began at ``started_at`` has lasted, within 0 and the longest."""
    seconds = int((timezone.now() - started_at).total_seconds())
    return min(max(seconds, 0), LONGEST_CALL_SECONDS)


@transaction.atomic
def call_log(
    *,
    rep: User,
    customer: Customer,
    kind: str,
    subject: str,
    started_at: datetime,
    description: str = "",
    contact: Contact | None = None,
    new_contact: dict | None = None,
    product: str = "",
    priority: str = Ticket.Priority.NORMAL,
    resolved_during_call: bool = False,
    root_cause: str = "",
    resolution: str = "",
    related: list[Ticket] | tuple = (),
    rma_serial_number: str = "",
    rma_order_number: str = "",
    rma_reason: str = "",
) -> Ticket:
    """Record a phone call as a ticket, all or nothing: the contact added on the way, the call's
    length, links to earlier reports of the same problem, and its resolution if it was resolved
    during the call."""
    details = {
        "rma_serial_number": rma_serial_number,
        "rma_order_number": rma_order_number,
        "rma_reason": rma_reason,
    }
    if kind == Ticket.Kind.RMA and (missing := missing_return_details(details)):
        raise ValidationError(missing)
    if new_contact:
        contact = contact_create(customer=customer, **new_contact)
    ticket = ticket_create(
        customer=customer,
        contact=contact,
        kind=kind,
        channel=Ticket.Channel.PHONE,
        subject=subject,
        description=description,
        product=product,
        priority=priority,
        created_by=rep,
        call_duration_seconds=call_seconds(started_at),
        rma_serial_number=rma_serial_number,
        rma_order_number=rma_order_number,
        rma_reason=rma_reason,
    )
    for other in related:
        if other.customer_id != customer.pk:
            raise ValidationError({"related": f"{other.reference} is another customer's ticket."})
        ticket_link(ticket=ticket, other=other, actor=rep)
    if resolved_during_call:
        ticket = ticket_update(
            ticket=ticket,
            actor=rep,
            status=Ticket.Status.RESOLVED,
            root_cause=root_cause,
            resolution=resolution,
        )
    return ticket


def call_add(*, ticket: Ticket, rep: User, body: str, started_at: datetime) -> TimelineEntry:
    """A further call on a ticket, timed from when the rep opened the call form."""
    return note_add(
        ticket=ticket, author=rep, body=body, call_duration_seconds=call_seconds(started_at)
    )
