"""What we write to the customer: a rep's public reply, a note made visible to the customer, and
the acknowledgement of a new emailed request.

Each is a ``Message`` out on the ticket (with its timeline entry) and an ``EmailDelivery`` sent by
the delivery task after commit, retried, once. Every one carries our own Message-ID, answers the
customer's latest message (In-Reply-To, References), names the ticket in its subject
(``[T-123]``) and has the signed Reply-To, so the customer's answer finds the ticket again
whatever their mail client or provider does to it. A rep's reply carries no Auto-Submitted (it
is a person writing); the acknowledgement says ``auto-replied``, so autoresponders keep quiet.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Contact, User
from accounts.portal_links import portal_url
from conversations.addressing import new_message_id, reply_address, subject_for
from conversations.bodies import REPLY_SEPARATOR
from conversations.models import Attachment, Mailbox, Message
from conversations.selectors import last_email_undelivered, message_answered
from deliveries.models import EmailDelivery
from deliveries.services import email_delivery_retry
from deliveries.tasks import send_email_delivery
from helpdesk.prepared import PreparedQuery
from helpdesk.queue import enqueue_on_commit
from tickets.messages import message_entry_record
from tickets.models import MessageDirection, Ticket, TimelineEntry
from tickets.services import ticket_update


def mailbox_for_ticket(ticket: Ticket) -> Mailbox | None:
    """The mailbox the ticket's conversation goes through: the one its first email came to,
    else the default one (``EMAIL_DEFAULT_MAILBOX``, or the first active)."""
    first = (
        Message.objects.filter(ticket=ticket, inbound__mailbox__isnull=False)
        .select_related("inbound__mailbox")
        .order_by("created_at", "id")
        .first()
    )
    if first is not None and first.inbound and first.inbound.mailbox:
        return first.inbound.mailbox
    return default_mailbox()


def default_mailbox() -> Mailbox | None:
    """The mailbox mail goes out through when nothing says which: ``EMAIL_DEFAULT_MAILBOX``,
    or the first active one."""
    if settings.EMAIL_DEFAULT_MAILBOX:
        chosen = _ACTIVE_MAILBOX_NAMED(settings.EMAIL_DEFAULT_MAILBOX)
        if chosen:
            return chosen[0]
    first = _FIRST_ACTIVE_MAILBOX()
    return first[0] if first else None


# Read for every acknowledgement and reply: their SQL is built once (helpdesk.prepared).
_ACKNOWLEDGED_SINCE = PreparedQuery(
    lambda address, since: (
        EmailDelivery.objects.filter(
            key__startswith="ack:", recipient__iexact=address, created_at__gte=since
        )
        .order_by()
        .values_list("pk", flat=True)[:1]
    )
)
_ACTIVE_MAILBOX_NAMED = PreparedQuery(
    lambda name: Mailbox.objects.filter(is_active=True, name=name).order_by("pk")[:1]
)
_FIRST_ACTIVE_MAILBOX = PreparedQuery(
    lambda: Mailbox.objects.filter(is_active=True).order_by("pk")[:1]
)


def from_address(mailbox: Mailbox | None) -> tuple[str, str]:
    """(From header, the bare address replies are built on)."""
    from email.utils import formataddr, parseaddr

    if mailbox is not None:
        return formataddr((settings.EMAIL_FROM_NAME, mailbox.address)), mailbox.address
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return settings.DEFAULT_FROM_EMAIL, address or "support@localhost"


def _recipient(ticket: Ticket) -> Contact:
    # Read afresh: whether the address bounces may have changed since the ticket was loaded.
    contact = Contact.objects.filter(pk=ticket.contact_id).first() if ticket.contact_id else None
    if contact is None or not contact.email:
        raise ValidationError(
            {"body": "This ticket's contact has no email address: there is nobody to send it to."}
        )
    return contact


def _threading_headers(answered: Message | None, message_id: str) -> dict[str, str]:
    headers = {"Message-ID": f"<{message_id}>"}
    if answered is None:
        return headers
    # Message ids are ASCII (RFC 5322); one that is not (a sender's mail system's own idea)
    # would go out encoded as RFC 2047, which no client matches, and drag the whole header
    # with it: left out, the reply threads by the others, the Reply-To and the subject tag.
    chain = [mid for mid in [*answered.references.split(), answered.message_id] if mid.isascii()]
    if answered.message_id.isascii():
        headers["In-Reply-To"] = f"<{answered.message_id}>"
    if chain:
        headers["References"] = " ".join(f"<{mid}>" for mid in chain[-20:])
    return headers


def files_store(message: Message, files) -> list[dict]:
    """Keep uploaded files as the message's attachments (by content, once); what a delivery
    attaches of them."""
    stored = []
    for upload in files:
        data = upload.read()
        if len(data) > settings.EMAIL_ATTACHMENT_MAX_BYTES:
            raise ValidationError(
                {
                    "attachments": f"{upload.name} is over the limit of "
                    f"{settings.EMAIL_ATTACHMENT_MAX_BYTES:,} bytes."
                }
            )
        digest = hashlib.sha256(data).hexdigest()
        path = f"mail/attachments/{digest[:2]}/{digest}"
        if not default_storage.exists(path):
            path = default_storage.save(path, ContentFile(data))
        from conversations.mime import safe_filename

        content_type = getattr(upload, "content_type", None) or "application/octet-stream"
        name = safe_filename(upload.name, content_type=content_type, index=len(stored) + 1)
        Attachment.objects.create(
            message=message,
            file=path,
            filename=name,
            content_type=content_type,
            size=len(data),
            sha256=digest,
        )
        stored.append({"path": path, "filename": name, "content_type": content_type})
    return stored


def _outgoing(
    *,
    ticket: Ticket,
    contact: Contact,
    entry: TimelineEntry,
    author: User | None,
    text: str,
    files=(),
    automatic: bool = False,
    answered: Message | None = None,
    mailbox: Mailbox | None = None,
    kind: str = "",
    message_id: str | None = None,
) -> Message:
    """The message and its delivery. ``answered`` and ``mailbox``, when the caller has them
    (the message just received), spare looking them up. ``kind`` prefixes the delivery's key:
    ``ack`` (what the acknowledgements' hourly limit counts), ``confirm``, else ``message``."""
    mailbox = mailbox or mailbox_for_ticket(ticket)
    from_header, base = from_address(mailbox)
    message_id = message_id or new_message_id(ticket_id=ticket.pk)
    answered = answered or message_answered(ticket)
    headers = _threading_headers(answered, message_id)
    headers["Reply-To"] = reply_address(
        mailbox_address=base, ticket_id=ticket.pk, contact_id=contact.pk
    )
    headers["X-Switchboard-Ticket"] = ticket.reference
    if automatic:
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    subject = subject_for(ticket_reference=ticket.reference, subject=ticket.subject)
    context = {
        "ticket": ticket,
        "contact": contact,
        "author": author,
        "text": text,
        "separator": REPLY_SEPARATOR,
        "site_url": settings.SITE_URL,
        # Every email to a contact carries their way to the request on the web.
        "portal_url": portal_url(contact, ticket_id=ticket.pk),
    }
    delivery = EmailDelivery(
        # Keyed by our Message-ID: stored once, whatever retries the caller makes.
        key=f"{kind or 'message'}:{message_id}"[:120],
        ticket=ticket,
        recipient=contact.email,
        subject=subject,
        body=render_to_string("email/customer_message.txt", context),
        html_body=render_to_string("email/customer_message.html", context),
        from_email=from_header,
        headers=headers,
    )
    if contact.email_bouncing_since is not None:
        delivery.status = EmailDelivery.Status.SUPPRESSED
        delivery.reason = f"The address bounces: {contact.email_bounce_reason}"[:300]
    delivery.save()
    message = Message.objects.create(
        ticket=ticket,
        direction=MessageDirection.OUT,
        channel=Ticket.Channel.EMAIL,
        contact=contact,
        author=author,
        entry=entry,
        sender=base,
        to=[contact.email],
        subject=subject,
        text=text,
        text_new=text,
        headers={name: value for name, value in headers.items() if name != "X-Switchboard-Ticket"},
        message_id=message_id,
        in_reply_to=headers.get("In-Reply-To", "").strip("<>"),
        references=" ".join(mid.strip("<>") for mid in headers.get("References", "").split()),
        is_automatic=automatic,
        delivery_id=delivery.pk,
    )
    if files:
        delivery.attachments = files_store(message, files)
        delivery.save(update_fields=["attachments"])
    # Not stored: whether it will be sent, for what the rep is told.
    message.suppressed = delivery.status == EmailDelivery.Status.SUPPRESSED
    if not message.suppressed:
        enqueue_on_commit(send_email_delivery, delivery.pk)
    return message


@transaction.atomic
def reply_send(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    files=(),
    sent_as: str = "",
    then_status: str = "",
) -> Message:
    """A rep's public reply: a message to the customer on the timeline, sent by email; then,
    with ``then_status``, the ticket set to that status (pending: waiting for the customer),
    in the same transaction: refused, the reply is not sent either.

    ``sent_as``: the composer's token (16 hex digits), which makes the reply's Message-ID: the
    same reply posted again (a double click, a resent form) is the message sent the first
    time, not a second email. Posted again with other words (the form edited after going
    back), it is a reply of its own."""
    if not body.strip():
        raise ValidationError({"body": "A reply cannot be empty."})
    message_id = new_message_id(ticket_id=ticket.pk, token=sent_as) if sent_as else None
    if message_id:
        # The ticket's row, locked: of two posts at once, the second waits, then finds the
        # first's message.
        Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("pk").get()
        sent = Message.objects.filter(ticket=ticket, message_id=message_id).first()
        if sent is not None and sent.text == body:
            delivery = EmailDelivery.objects.filter(pk=sent.delivery_id).first()
            sent.suppressed = bool(delivery) and delivery.status == EmailDelivery.Status.SUPPRESSED
            return sent
        if sent is not None:
            message_id = None  # a new Message-ID, made below
    contact = _recipient(ticket)
    entry = message_entry_record(
        ticket=ticket,
        direction=MessageDirection.OUT,
        body=body,
        channel=Ticket.Channel.EMAIL,
        author=author,
    )
    message = _outgoing(
        ticket=ticket,
        contact=contact,
        entry=entry,
        author=author,
        text=body,
        files=files,
        message_id=message_id,
    )
    if then_status and then_status != ticket.status:
        ticket.refresh_from_db()  # its first response and search text were written meanwhile
        ticket_update(ticket=ticket, actor=author, status=then_status)
    return message


def undelivered_send_again(*, ticket: Ticket, delivery_id: int) -> str:
    """Send the ticket's last email to the customer again, after it failed for good, to the
    contact's address as it is now (a rep may have corrected it); the address it goes to.
    Refused (ValidationError) when it is no longer the last one that failed, or when there
    is no address to send it to that would not bounce again."""
    undelivered = last_email_undelivered(ticket)
    if undelivered is None or undelivered.pk != delivery_id:
        raise ValidationError("That email is no longer the one that failed.")
    contact = ticket.contact
    if contact is None or not contact.email:
        raise ValidationError("The ticket's contact has no email address: add one first.")
    if contact.email_bouncing_since is not None:
        raise ValidationError("Mail to the contact's address bounces: change it first.")
    if not email_delivery_retry(delivery_id=delivery_id, recipient=contact.email):
        raise ValidationError("That email is no longer the one that failed.")
    return contact.email


@transaction.atomic
def public_note_send(*, entry: TimelineEntry) -> Message | None:
    """Send a note a rep made visible to the customer, once (None if it was, or cannot be: no
    contact with an email address)."""
    if entry.is_internal or entry.kind != TimelineEntry.Kind.NOTE:
        return None
    if Message.objects.filter(entry=entry).exists():
        return None
    ticket = Ticket.objects.select_related("contact").get(pk=entry.ticket_id)
    if ticket.contact is None or not ticket.contact.email:
        return None
    return _outgoing(
        ticket=ticket,
        contact=ticket.contact,
        entry=entry,
        author=entry.author,
        text=entry.body,
    )


def acknowledgement_send(*, message: Message) -> Message | None:
    """Tell the sender of a new emailed request its ticket number and what happens next; at
    most one per sender within EMAIL_ACKNOWLEDGE_INTERVAL_MINUTES (None when held back)."""
    contact = message.contact
    if contact is None or not contact.email:
        return None
    since = timezone.now() - timedelta(minutes=settings.EMAIL_ACKNOWLEDGE_INTERVAL_MINUTES)
    _lock_address(contact.email)
    if _ACKNOWLEDGED_SINCE(contact.email, since):
        return None
    inbound = message.inbound
    # The request opened the ticket: the mailbox it came to is the ticket's (the default when
    # it came to none), with no need to look for the ticket's first email.
    mailbox = inbound.mailbox if inbound is not None else None
    return _automatic_reply(
        message,
        contact,
        "email/customer_acknowledgement.txt",
        answered=message if message.message_id else None,
        mailbox=mailbox or default_mailbox(),
        kind="ack",
    )


_ACK_LOCK = 3834  # RFC 3834, automatic responses: the advisory locks of acknowledgements


def _lock_address(address: str) -> None:
    """Until the transaction ends, the one writer to this address: of two messages of one
    sender processed at once, the second waits, then sees the first's acknowledgement. (SQLite,
    the embedded default, has one writer at a time anyway.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Two keys: this lock's kind, then the address; no other lock shares the kind.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(lower(%s)))", [_ACK_LOCK, address]
            )


def _automatic_reply(message: Message, contact: Contact, template: str, **outgoing) -> Message:
    """An automatic message to the contact about the ticket ``message`` opened: on the
    timeline, and sent. Its words are the same for every customer: not made searchable."""
    ticket = message.ticket
    text = render_to_string(template, {"ticket": ticket, "contact": contact}).strip()
    entry = message_entry_record(
        ticket=ticket,
        direction=MessageDirection.OUT,
        body=text,
        channel=Ticket.Channel.EMAIL,
        author=None,
        searchable=False,
    )
    return _outgoing(
        ticket=ticket,
        contact=contact,
        entry=entry,
        author=None,
        text=text,
        automatic=True,
        **outgoing,
    )


def confirmation_send(*, message: Message) -> Message | None:
    """Confirm a request made on the web form: its ticket number and the link to follow it. Always
    sent (the form's own limits bound how often), unlike the acknowledgement of mail."""
    contact = message.contact
    if contact is None or not contact.email:
        return None
    # Keyed apart from acknowledgements: a request made on the web does not use up the
    # acknowledgement of the sender's next email.
    return _automatic_reply(message, contact, "email/customer_confirmation.txt", kind="confirm")
