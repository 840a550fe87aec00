"""What a customer's reply does to the ticket it answers: a pending ticket (waiting for them)
opens again, a resolved or closed one reopens within EMAIL_REOPEN_DAYS, and after that the
reply goes to a new ticket linked to the old one (the same one for every later reply on that
thread). Called by ``conversations.processing`` in its transaction."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import Contact
from conversations.mime import ParsedMail
from conversations.texts import description_of
from tickets.models import MessageSender, Ticket, TimelineEntry
from tickets.services import ticket_link, ticket_open, ticket_update


def ticket_for_reply(
    ticket: Ticket,
    *,
    sender: str,
    contact: Contact | None,
    is_automatic: bool,
    mail: ParsedMail,
    texts,
) -> tuple[Ticket, TimelineEntry | None]:
    """The ticket a message on ``ticket`` goes to, and the first entry of it if it was opened
    for it (else None). A contact writing on a resolved or closed ticket reopens it within
    EMAIL_REOPEN_DAYS of its resolution; later, the message goes to the open ticket already
    opened from it (a second reply on the same old thread), else to a new ticket linked to it.
    A pending ticket (waiting for the customer) their answer opens again. Automatic replies,
    staff and strangers reopen nothing. A new ticket is the writer's
    (``contact``: a colleague may answer the old thread), so that replies go to them."""
    unchanged = (ticket, None)
    if is_automatic or sender != MessageSender.CONTACT:
        return unchanged
    if ticket.status == Ticket.Status.PENDING:
        # It waited for the customer, who answered: it is the team's turn again.
        ticket_update(
            ticket=ticket, actor=None, status=Ticket.Status.OPEN, reason="The customer answered."
        )
        ticket.refresh_from_db()
        return unchanged
    if ticket.status not in Ticket.DONE_STATUSES:
        return unchanged
    done_at = ticket.resolved_at or ticket.status_changed_at or ticket.updated_at
    if done_at and timezone.now() - done_at <= timedelta(days=settings.EMAIL_REOPEN_DAYS):
        ticket_update(
            ticket=ticket,
            actor=None,
            status=Ticket.Status.OPEN,
            reason="The customer wrote again by email.",
        )
        ticket.refresh_from_db()
        return unchanged
    # Locked: of two replies on the same old thread processed at once, the second waits and
    # then finds the ticket the first opened, rather than opening another.
    Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("pk").get()
    follow_up = (
        ticket.related.filter(
            channel=Ticket.Channel.EMAIL,
            status__in=Ticket.OPEN_STATUSES,
            created_at__gte=done_at or ticket.created_at,
        )
        .order_by("-created_at")
        .first()
    )
    if follow_up is not None:
        return follow_up, None
    new, created = ticket_open(
        customer=ticket.customer,
        contact=contact or ticket.contact,
        kind=Ticket.Kind.CALL,
        channel=Ticket.Channel.EMAIL,
        subject=(mail.subject or ticket.subject)[:200],
        description=description_of(texts),
    )
    ticket_link(ticket=new, other=ticket, actor=None)
    return new, created
