"""What a contact does on the portal: say a request is solved or not, and ask for a link to
their requests. (Requests and replies themselves are ``conversations.web``; survey answers are
``surveys.services``.)"""

import uuid

import idna
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string

from accounts.models import Contact
from accounts.portal_links import portal_url
from conversations.models import Message
from conversations.replies import from_address, mailbox_for_ticket
from conversations.web import web_message_receive
from deliveries.models import EmailDelivery
from deliveries.tasks import send_email_delivery
from helpdesk.queue import enqueue_on_commit
from tickets.models import Ticket
from tickets.services import ticket_update

SOLVED = "This is solved, thank you."
NOT_SOLVED = "This is not solved yet."


@transaction.atomic
def ticket_solved_say(*, ticket: Ticket, contact: Contact) -> Message:
    """The contact says the request is solved: their words on the timeline; a resolved ticket
    is closed. An unresolved one stays with the rep, who records the root cause on resolving."""
    message = web_message_receive(ticket=ticket, contact=contact, text=SOLVED, reopen=False)
    if ticket.status == Ticket.Status.RESOLVED:
        ticket_update(
            ticket=ticket,
            actor=None,
            status=Ticket.Status.CLOSED,
            reason=f"{contact.name} confirmed on the request's page that it is solved.",
        )
    return message


def ticket_not_solved_say(*, ticket: Ticket, contact: Contact, text: str = "") -> Message:
    """The contact says it is not solved yet: their words on the timeline, and a resolved or
    closed ticket is reopened (which cancels its survey)."""
    body = f"{NOT_SOLVED}\n\n{text.strip()}" if text.strip() else NOT_SOLVED
    return web_message_receive(ticket=ticket, contact=contact, text=body)


@transaction.atomic
def links_send(*, email: str) -> int:
    """Email a link to their requests to every contact with this address (how many). The caller
    answers the same whatever this returns."""
    # ``email`` is in its ASCII form (portal.forms.mail_address); a rep may have written the
    # contact's with the domain's letters.
    local, _, domain = email.strip().rpartition("@")
    try:
        written = f"{local}@{idna.decode(domain)}"
    except idna.IDNAError:
        written = email.strip()
    contacts = list(
        Contact.objects.filter(Q(email__iexact=email.strip()) | Q(email__iexact=written))
        .select_related("customer")
        .order_by("pk")
    )
    sent = 0
    for contact in contacts:
        if contact.email_bouncing_since is not None:
            continue
        latest = Ticket.objects.filter(contact=contact).order_by("-created_at").first()
        from_header, _ = from_address(mailbox_for_ticket(latest) if latest else None)
        context = {
            "contact": contact,
            "url": portal_url(contact),
            "days": settings.PORTAL_LINK_MAX_AGE_DAYS,
        }
        delivery = EmailDelivery.objects.create(
            key=f"portal-link:{contact.pk}:{uuid.uuid4().hex}",
            recipient=contact.email,
            subject="Your requests",
            body=render_to_string("email/portal_link.txt", context),
            from_email=from_header,
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        )
        enqueue_on_commit(send_email_delivery, delivery.pk)
        sent += 1
    return sent
