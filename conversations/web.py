"""The conversation on the web: requests made on the form, and what contacts write on a ticket's
page.

A request made on the form takes the road mail takes: it is stored as received, as one RFC 822
message with its attachments (``InboundMessage``, source ``web``), before the customer is told
anything, then processed by the same pipeline. A known address opens its ticket; an unknown one
waits in the same triage as mail from unknown senders, and the ticket is opened when a rep says
who wrote.
"""

import uuid
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Contact
from conversations.intake import inbound_store
from conversations.models import InboundMessage, Message
from conversations.replies import files_store
from conversations.texts import NO_TEXT
from tickets.limits import TEXT_MAX_LENGTH
from tickets.messages import message_entry_record
from tickets.models import MessageDirection, MessageSender, Ticket
from tickets.services import ticket_update


def web_request_store(
    *,
    name: str,
    email: str,
    subject: str,
    description: str,
    form: dict,
    files=(),
    client: str = "",
) -> InboundMessage:
    """Keep a request made on the form, as the message it would have been by mail. ``form``:
    the answers a ticket takes besides the text (kind, product, organisation, return
    details). Raises only when it could not be stored."""
    mail = EmailMessage()
    mail["From"] = formataddr((name, email))
    mail["To"] = "web request form"
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=True)
    # Not of our outgoing format (conversations.addressing.is_ours), so never taken for a loop;
    # unique, so two requests with the same words are two requests.
    mail["Message-ID"] = f"<web.{uuid.uuid4().hex}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
    if form.get("organisation"):
        mail["Organization"] = str(form["organisation"])
    if client:
        mail["X-Switchboard-Client"] = client
    mail.set_content(description or "")
    for upload in files:
        data = upload.read()
        maintype, _, subtype = (upload.content_type or "application/octet-stream").partition("/")
        mail.add_attachment(
            data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=upload.name,
        )
    inbound, _ = inbound_store(raw=bytes(mail), source=InboundMessage.Source.WEB, form=form)
    return inbound


@transaction.atomic
def web_message_receive(
    *, ticket: Ticket, contact: Contact, text: str, files=(), reopen: bool = True
) -> Message:
    """What a contact wrote on the ticket's page: a message in, on the timeline (and
    ``ticket.message_received``), its files kept. A resolved or closed ticket is reopened,
    and a pending one (waiting for the customer) opened (unless ``reopen`` is false)."""
    text = text.strip()
    files = list(files)
    if not text and not files:
        raise ValidationError({"body": "Write a message or attach a file."})
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError(
            {"body": f"Keep the message under {TEXT_MAX_LENGTH:,} characters, or attach it."}
        )
    if reopen and ticket.status in (*Ticket.DONE_STATUSES, Ticket.Status.PENDING):
        # Resolved: the customer says it is not over. Pending: they answered what we asked.
        ticket = ticket_update(
            ticket=ticket,
            actor=None,
            status=Ticket.Status.OPEN,
            reason=(
                "The customer answered on the request's page."
                if ticket.status == Ticket.Status.PENDING
                else "The customer wrote again on the request's page."
            ),
        )
    entry = message_entry_record(
        ticket=ticket,
        direction=MessageDirection.IN,
        body=text or NO_TEXT,
        channel=Ticket.Channel.WEB,
        sender=MessageSender.CONTACT,
    )
    message = Message.objects.create(
        ticket=ticket,
        direction=MessageDirection.IN,
        channel=Ticket.Channel.WEB,
        contact=contact,
        entry=entry,
        sender=contact.email,
        sender_name=contact.name[:200],
        subject=ticket.subject[:300],
        text=text,
        text_new=text,
    )
    if files:
        files_store(message, files)
    return message
