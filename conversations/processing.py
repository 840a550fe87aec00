"""Understanding a message received: what the processing task makes of a stored message.

``inbound_process`` reads a stored message and decides, in one transaction, what it is:
our own mail come back (dropped), a bounce (recorded against the contact and the ticket it
answers), a message of an existing ticket (threaded by reply address, headers or subject tag),
a new ticket, or something a person must look at: an unknown or ambiguous sender (triage), a
stranger quoting another customer's ticket number, a flood from one sender, or a message that
cannot be read at all (quarantine). Every outcome is written on the inbound row with its reason.
"""

import logging
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, DataError, transaction
from django.utils import timezone

from accounts.models import Contact
from conversations import robots
from conversations.addressing import base_address, is_ours
from conversations.bounces import bounce_record
from conversations.holds import Held, the_contact
from conversations.mime import ParsedMail, addresses
from conversations.models import Attachment, InboundMessage, Mailbox, Message
from conversations.reopening import ticket_for_reply
from conversations.selectors import contacts_for_address, staff_for_address, thread_for
from conversations.stored import locked, read_stored
from conversations.texts import NO_TEXT, description_of, texts_of
from deliveries.actions import is_automatic_address
from tickets.messages import message_entry_record
from tickets.models import MessageDirection, MessageSender, Ticket, TimelineEntry
from tickets.services import ticket_open

logger = logging.getLogger(__name__)

Status = InboundMessage.Status


@dataclass
class Sender:
    """Who wrote, looked up once per message: their contacts (or the one a rep named) and,
    only if asked, whether they are a member of staff."""

    address: str
    contacts: list[Contact]

    @cached_property
    def is_staff(self) -> bool:
        return staff_for_address(self.address) is not None

    def contact_of(self, customer_id: int) -> Contact | None:
        return next((known for known in self.contacts if known.customer_id == customer_id), None)


def inbound_process(*, inbound_id: int, contact: Contact | None = None) -> str:
    """Make of a stored message what it is (see the module), once: a message already processed
    is left as it is. ``contact``: who sent it, as a rep said (triage). Its status after.

    A message that cannot be read or made sense of (a parser's bug included) is quarantined
    with the error: what its processing wrote is rolled back, the message itself stays, and so
    is one whose rows the database refuses (``DataError``). Only another database error is
    raised, for the task to retry with the message still pending.
    """
    try:
        return _process(inbound_id, contact)
    except DataError as exc:
        # The database refuses what this message made (a value out of range, say): trying
        # again makes the same, for ever. Held for a person, as a parser's error is.
        logger.exception("Inbound message %s could not be stored as processed", inbound_id)
        return _quarantine(inbound_id, f"It could not be processed: {_error(exc)}")
    except DatabaseError:
        raise
    except Exception as exc:
        logger.exception("Inbound message %s could not be processed", inbound_id)
        return _quarantine(inbound_id, f"It could not be processed: {_error(exc)}")


def _process(inbound_id: int, contact: Contact | None) -> str:
    # One transaction and no savepoint on the normal path; an exception rolls it all back.
    with transaction.atomic():
        inbound = locked(inbound_id)
        if inbound.status != Status.PENDING:
            return inbound.status
        inbound.attempts += 1
        mail = read_stored(inbound)
        inbound.sender, inbound.subject = mail.sender, mail.subject[:300]
        inbound.defects = mail.defects[:50]
        try:
            status, reason, ticket = _decide(inbound, mail, contact)
        except Held as held:  # raised before anything was written
            inbound.sender = mail.sender  # who _decide found wrote it (_relayed_author)
            finish(inbound, held.status, held.reason)
            return inbound.status
        inbound.sender = mail.sender
        inbound.ticket = ticket
        finish(inbound, status, reason)
        return inbound.status


def _quarantine(inbound_id: int, reason: str) -> str:
    with transaction.atomic():
        inbound = locked(inbound_id)
        if inbound.status == Status.PENDING:
            inbound.attempts += 1
            finish(inbound, Status.QUARANTINED, reason)
        return inbound.status


def _error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{name}: {' '.join(said)}" for name, said in exc.message_dict.items())
        return " ".join(exc.messages)
    return f"{type(exc).__name__}: {exc}"


_FINISHED_FIELDS = [
    "status",
    "reason",
    "processed_at",
    "attempts",
    "sender",
    "subject",
    "defects",
    "ticket",
]


def finish(inbound: InboundMessage, status: str, reason: str) -> None:
    """Record what became of the message (its row is locked by the caller)."""
    inbound.status, inbound.reason = status, reason[:2000]
    inbound.processed_at = timezone.now()
    inbound.save(update_fields=_FINISHED_FIELDS)


def _decide(inbound: InboundMessage, mail: ParsedMail, contact: Contact | None):
    """What the message is. A ``contact`` a rep named is their decision on a message held for
    them: the holds that wait for a person (no sender, a subject tag of another customer's
    ticket, a subject that only reads like an automatic reply, a flood) hold it no longer."""
    if inbound.source == InboundMessage.Source.WEB:
        return _web_request(inbound, mail, contact)
    if mail.message_id and is_ours(mail.message_id):
        return Status.LOOP, "Our own message came back (its Message-ID is ours).", None
    if base_address(mail.sender) in _our_addresses():
        author = _relayed_author(mail)
        if author is None:
            return Status.LOOP, f"Sent from our own address {mail.sender}.", None
        mail.sender, mail.sender_name, mail.sender_header = author
    verdict = robots.classify(mail, list_mail_is_automatic=settings.EMAIL_LIST_MAIL_IS_AUTOMATIC)
    if verdict.kind == robots.BOUNCE:
        return bounce_record(mail, verdict)
    if not mail.sender and contact is None:
        raise Held(Status.QUARANTINED, "No sender address (From, Reply-To, Sender, Return-Path).")
    sender = Sender(mail.sender, [contact] if contact else contacts_for_address(mail.sender))
    thread = thread_for(mail)
    if thread is not None and thread.how == "subject" and not _may_use_tag(sender, thread):
        if contact is not None:  # the rep says who wrote it: not the ticket's customer
            return _open(inbound, mail, verdict, sender, checked=True)
        raise Held(
            Status.TRIAGE,
            f"The subject names {thread.ticket.reference}, but {mail.sender} is not a contact "
            f"of {thread.ticket.customer}: a rep decides where it belongs.",
        )
    if thread is not None:
        return _append(inbound, mail, verdict, thread, sender)
    if verdict.kind == robots.AUTO and not verdict.certain:
        if contact is None:  # else the rep said who wrote it: a ticket, but no acknowledgement
            # Dropped, it would be lost if a person wrote it; opened, it could start a loop.
            raise Held(
                Status.TRIAGE,
                f"The subject reads like an automatic reply, but no header says it is one: a "
                f"rep decides whether {mail.sender} wrote it.",
            )
    elif verdict.kind == robots.AUTO:
        return Status.AUTO, f"An automatic reply ({verdict.reason}) to no ticket of ours.", None
    return _open(inbound, mail, verdict, sender, checked=contact is not None)


def our_addresses_forget(**kwargs) -> None:
    """A mailbox was saved or deleted: our addresses are read again."""
    cache.delete("conversations:our-addresses")


def _our_addresses() -> set[str]:
    """Our mailboxes' addresses, read at most every minute per process: they change rarely,
    and every message is checked against them."""
    addresses = cache.get("conversations:our-addresses")
    if addresses is None:
        addresses = {
            address.lower() for address in Mailbox.objects.values_list("address", flat=True)
        }
        cache.set("conversations:our-addresses", addresses, 60)
    return addresses


def _relayed_author(mail: ParsedMail) -> tuple[str, str, str] | None:
    """(address, name, header) of who wrote mail From one of our addresses, if someone else
    did and it was relayed: a group or list our address is (Google Groups, a DMARC-minding
    list) rewrites From to itself and names the author in X-Original-From or Reply-To."""
    ours = _our_addresses()
    for header in ("X-Original-From", "Reply-To"):
        for name, address in addresses(mail.message, header):
            if base_address(address) not in ours:
                return address, name, header
    return None


def _may_use_tag(sender: Sender, thread) -> bool:
    """A subject tag is taken only from the ticket's customer's contacts, or staff."""
    return sender.contact_of(thread.ticket.customer_id) is not None or sender.is_staff


def _channel(inbound: InboundMessage) -> str:
    return (
        Ticket.Channel.WEB if inbound.source == InboundMessage.Source.WEB else Ticket.Channel.EMAIL
    )


def _message(*, inbound, mail, ticket, contact, entry, is_automatic, texts) -> Message:
    text, new, html = texts
    message = Message.objects.create(
        ticket=ticket,
        direction=MessageDirection.IN,
        channel=_channel(inbound),
        contact=contact,
        inbound=inbound,
        entry=entry,
        sender=mail.sender,
        sender_name=mail.sender_name[:200],
        to=mail.to[:50],
        cc=mail.cc[:50],
        subject=mail.subject[:300],
        text=text,
        text_new=new,
        html=html,
        headers=_kept_headers(mail),
        message_id=mail.message_id,
        in_reply_to=(mail.in_reply_to or [""])[0],
        references=" ".join(mail.references)[:10_000],
        is_automatic=is_automatic,
    )
    _store_attachments(message, mail)
    return message


def _kept_headers(mail: ParsedMail) -> dict:
    names = ("From", "To", "Cc", "Reply-To", "Date", "Subject", "Message-ID", "In-Reply-To")
    kept = {name: mail.header(name)[:1000] for name in names if mail.header(name)}
    if mail.omitted_bytes:
        kept["X-Switchboard-Omitted"] = (
            f"{mail.omitted_bytes:,} bytes of attachments were over the limits and are only in "
            "the original message"
        )
    return kept


def _store_attachments(message: Message, mail: ParsedMail) -> None:
    rows = []
    for part in mail.attachments:
        row = Attachment(
            message=message,
            filename=part.filename,
            content_type=part.content_type,
            size=part.size,
            content_id=part.content_id,
        )
        if not part.kept:
            row.omitted = (
                f"Not kept: {part.size:,} bytes, over the limit "
                f"({settings.EMAIL_ATTACHMENT_MAX_BYTES:,} per attachment, "
                f"{settings.EMAIL_MESSAGE_MAX_BYTES:,} per message). It is in the original."
            )
        else:
            spool, row.sha256, row.size = part.spool()  # decoded now, one at a time
            with spool:
                name = f"mail/attachments/{row.sha256[:2]}/{row.sha256}"
                if not default_storage.exists(name):
                    name = default_storage.save(name, File(spool, name=name))
            row.file.name = name
        rows.append(row)
    Attachment.objects.bulk_create(rows)


def _sender_kind(sender: Sender, contact: Contact | None) -> str:
    if contact is not None:
        return MessageSender.CONTACT
    return MessageSender.STAFF if sender.is_staff else MessageSender.UNKNOWN


def _append(inbound, mail, verdict, thread, sender: Sender):
    ticket = thread.ticket
    contact = sender.contact_of(ticket.customer_id)
    kind = _sender_kind(sender, contact)
    is_automatic = verdict.is_robot
    texts = texts_of(mail)
    ticket, opened = ticket_for_reply(
        ticket, sender=kind, contact=contact, is_automatic=is_automatic, mail=mail, texts=texts
    )
    if opened is not None:
        message = _new_ticket_message(inbound, mail, ticket, opened, contact, texts)
        _acknowledge(message, mail, verdict)  # the customer learns the new ticket's number
        reason = (
            f"A reply to {thread.ticket.reference}, closed too long ago to reopen: opened "
            f"{ticket.reference}, linked to it."
        )
        return Status.TICKET, reason, ticket
    message = message_add(
        inbound=inbound,
        mail=mail,
        ticket=ticket,
        sender=sender,
        is_automatic=is_automatic,
        texts=texts,
    )
    what = "An automatic reply" if is_automatic else "A reply"
    return (
        Status.APPENDED,
        f"{what} on {ticket.reference} (by {thread.how}); message {message.pk}.",
        ticket,
    )


def message_add(
    *, inbound, mail: ParsedMail, ticket: Ticket, sender: Sender, is_automatic: bool, texts
) -> Message:
    """A message received on an existing ticket: its timeline entry and event, and the message."""
    contact = sender.contact_of(ticket.customer_id)
    entry = message_entry_record(
        ticket=ticket,
        direction=MessageDirection.IN,
        body=texts[1] or texts[0] or NO_TEXT,
        channel=Ticket.Channel.EMAIL,
        sender=_sender_kind(sender, contact),
        is_automatic=is_automatic,
    )
    return _message(
        inbound=inbound,
        mail=mail,
        ticket=ticket,
        contact=contact,
        entry=entry,
        is_automatic=is_automatic,
        texts=texts,
    )


def _new_ticket_message(inbound, mail, ticket, created: TimelineEntry, contact, texts) -> Message:
    return _message(
        inbound=inbound,
        mail=mail,
        ticket=ticket,
        contact=contact,
        entry=created,
        is_automatic=False,
        texts=texts,
    )


def _open(inbound, mail, verdict, sender: Sender, *, checked: bool = False):
    contact = the_contact(
        inbound,
        mail,
        sender.contacts,
        unknown=f"Nobody we know writes from {mail.sender}.",
        checked=checked,
    )
    texts = texts_of(mail)
    ticket, created = ticket_open(
        customer=contact.customer,
        contact=contact,
        kind=Ticket.Kind.CALL,
        channel=Ticket.Channel.EMAIL,
        subject=(mail.subject or "(no subject)")[:200],
        description=description_of(texts),
    )
    message = _new_ticket_message(inbound, mail, ticket, created, contact, texts)
    _acknowledge(message, mail, verdict)
    return (
        Status.TICKET,
        f"Opened {ticket.reference} for {contact.name} ({contact.customer}).",
        ticket,
    )


def _acknowledge(message: Message, mail: ParsedMail, verdict) -> None:
    """Acknowledge the new ticket ``message`` opened: to a person only, not to an address that
    never reads its mail (``noreply@``, ``notifications@``), which no header may say, nor to a
    sender who asked for no automatic answer (Microsoft's X-Auto-Response-Suppress)."""
    if (
        verdict.kind == robots.HUMAN
        and settings.EMAIL_ACKNOWLEDGE
        and not is_automatic_address(mail.sender)
        and not _suppresses_auto_replies(mail)
    ):
        from conversations.replies import acknowledgement_send

        acknowledgement_send(message=message)


def _suppresses_auto_replies(mail: ParsedMail) -> bool:
    asked = {value.strip().lower() for value in mail.header("X-Auto-Response-Suppress").split(",")}
    return bool(asked & {"all", "autoreply"})


# What of the web form's answers a ticket takes, and the ticket fields they go to.
WEB_FORM_FIELDS = ("kind", "product", "rma_serial_number", "rma_order_number", "rma_reason")


def _web_request(inbound: InboundMessage, mail: ParsedMail, contact: Contact | None):
    """A request made on the web form: a person typed it (no robot, no thread to find), and it
    asked what kind of request it is. An unknown sender waits for a rep, as mail does."""
    contact = the_contact(
        inbound,
        mail,
        [contact] if contact else contacts_for_address(mail.sender),
        unknown=f"A web request from {mail.sender}, whom nobody knows yet.",
        checked=contact is not None,
    )
    form = {name: str(inbound.form.get(name) or "") for name in WEB_FORM_FIELDS}
    if form["kind"] not in Ticket.Kind.values:
        form["kind"] = Ticket.Kind.CALL
    texts = texts_of(mail)
    ticket, created = ticket_open(
        customer=contact.customer,
        contact=contact,
        channel=Ticket.Channel.WEB,
        subject=(mail.subject or "(no subject)")[:200],
        description=description_of(texts),
        **form,
    )
    message = _new_ticket_message(inbound, mail, ticket, created, contact, texts)
    from conversations.replies import confirmation_send

    confirmation_send(message=message)
    return (
        Status.TICKET,
        f"Opened {ticket.reference} for {contact.name} ({contact.customer}) from the web form.",
        ticket,
    )
