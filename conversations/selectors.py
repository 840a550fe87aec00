"""Reads of the conversation: who a sender is, which ticket a message answers, what waits."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet

from accounts.models import Contact, Customer, User
from accounts.selectors import customer_matches
from conversations.addressing import reply_token, subject_ticket_id
from conversations.mime import ParsedMail
from conversations.models import Attachment, InboundMessage, Message, SenderAddress
from deliveries.models import EmailDelivery
from helpdesk.prepared import PreparedQuery
from tickets.models import Ticket


def contacts_for_address(address: str) -> list[Contact]:
    """The contacts who write from this address: by their email (case-insensitive, exact) and
    by the addresses reps told us are theirs."""
    if not address:
        return []
    return _CONTACTS_FOR_ADDRESS(address, address.lower())


def _contacts_for_address(address: str, lowered: str) -> QuerySet[Contact]:
    # A UNION of two index lookups, not an OR of both conditions: PostgreSQL answers an OR
    # with a subquery by reading every contact (24 ms at 100,000 contacts, against 1 ms).
    by_email = Contact.objects.filter(email__iexact=address).order_by().values("pk")
    remembered = SenderAddress.objects.filter(email=lowered).order_by().values("contact_id")
    return (
        Contact.objects.filter(pk__in=by_email.union(remembered))
        # The one a rep said writes from it, among several who share it.
        .annotate(remembered=Exists(remembered.filter(contact_id=OuterRef("pk"))))
        .select_related("customer")
        .order_by("pk")
    )


# Read for every message received: their SQL is built once (helpdesk.prepared).
_CONTACTS_FOR_ADDRESS = PreparedQuery(_contacts_for_address)
_STAFF_FOR_ADDRESS = PreparedQuery(
    lambda address: User.objects.filter(email__iexact=address, is_active=True).order_by("pk")[:1]
)


def staff_for_address(address: str) -> User | None:
    if not address:
        return None
    found = _STAFF_FOR_ADDRESS(address)
    return found[0] if found else None


@dataclass(frozen=True)
class Thread:
    ticket: Ticket
    how: str  # "reply address", "headers" or "subject"


def thread_for(mail: ParsedMail) -> Thread | None:
    """The ticket a message belongs to, first sign that holds: a signed reply address, a
    Message-ID it answers, the ``[T-123]`` subject tag (``how`` says which, so that the caller
    can refuse a tag from a stranger)."""
    for recipient in mail.recipients:
        token = reply_token(recipient)
        if token is not None:
            ticket = Ticket.objects.filter(pk=token[0]).select_related("customer").first()
            if ticket is not None:
                return Thread(ticket, "reply address")
    answered = [*mail.in_reply_to, *reversed(mail.references)]
    if answered:
        # Our own Message-IDs and those of messages received, and the ids a provider gave the
        # emails it sent for us (Amazon SES replaces ours with its own).
        by_id: dict[str, int] = {}
        for ticket_id, message_id in Message.objects.filter(message_id__in=answered).values_list(
            "ticket_id", "message_id"
        ):
            by_id.setdefault(message_id, ticket_id)
        # Amazon SES reports its id bare and writes it as <id@region.amazonses.com>.
        local_parts = {mid.split("@")[0]: mid for mid in answered}
        for ticket_id, provider_id in EmailDelivery.objects.filter(
            provider_message_id__in=[*answered, *local_parts], ticket__isnull=False
        ).values_list("ticket_id", "provider_message_id"):
            by_id.setdefault(local_parts.get(provider_id, provider_id), ticket_id)
        for message_id in answered:
            if message_id in by_id:
                ticket = Ticket.objects.select_related("customer").get(pk=by_id[message_id])
                return Thread(ticket, "headers")
    tagged = subject_ticket_id(mail.subject)
    if tagged is not None:
        ticket = Ticket.objects.filter(pk=tagged).select_related("customer").first()
        if ticket is not None:
            return Thread(ticket, "subject")
    return None


def waiting_mail_count() -> int:
    """Messages waiting for a rep (an unknown sender, or quarantined): an index of its own
    holds only the rows not processed for good, so counting them reads no other mail."""
    return InboundMessage.objects.filter(status__in=InboundMessage.WAITING).count()


def inbound_list(*, statuses=None) -> QuerySet[InboundMessage]:
    """Mail received, newest first: of these statuses, or all of it."""
    rows = InboundMessage.objects.select_related("mailbox").order_by("-received_at", "-id")
    return rows if statuses is None else rows.filter(status__in=statuses)


def triage_customers(*, query: str, limit: int = 10) -> list[Customer]:
    """The customers a rep may be looking for when saying who sent a message: found as the call
    log finds them (name, or a contact's name, email or phone), each with its contacts."""
    ids = list(
        dict.fromkeys(customer.pk for customer, _ in customer_matches(query=query, limit=limit))
    )
    customers = Customer.objects.filter(pk__in=ids).prefetch_related("contacts").in_bulk()
    return [customers[pk] for pk in ids if pk in customers]


def last_email_undelivered(ticket: Ticket) -> EmailDelivery | None:
    """The ticket's latest email to the customer (a reply, a note sent to them, an
    acknowledgement), if it failed for good: the customer has not had our last word."""
    latest = (
        EmailDelivery.objects.filter(ticket=ticket, key__regex=r"^(message|ack|confirm):")
        .order_by("-id")
        .only("pk", "status", "reason", "recipient", "created_at", "attempts")
        .first()
    )
    return latest if latest is not None and latest.status == EmailDelivery.Status.FAILED else None


def customers_at_domain(*, sender: str, most: int = 3) -> list[Customer]:
    """The customers whose contacts write from the sender's domain (newhire@globex.example:
    Globex's people write from globex.example), each with its contacts; none when more than
    ``most`` do, as for a mail provider's domain shared by everyone."""
    domain = sender.rpartition("@")[2].strip().lower()
    if not domain:
        return []
    ids = list(
        Contact.objects.filter(email__iendswith=f"@{domain}")
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct()[: most + 1]
    )
    if len(ids) > most:
        return []
    return list(Customer.objects.filter(pk__in=ids).prefetch_related("contacts").order_by("name"))


def inbound_get(*, inbound_id: int) -> InboundMessage:
    return InboundMessage.objects.select_related("mailbox", "ticket").get(pk=inbound_id)


def messages_for_entries(entry_ids: list[int]) -> dict[int, Message]:
    """The messages behind these timeline entries, with their attachments (two queries)."""
    messages = (
        Message.objects.filter(entry_id__in=entry_ids)
        .select_related("contact")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
    )
    return {message.entry_id: message for message in messages if message.entry_id}


def message_get(*, message_id: int) -> Message:
    return Message.objects.select_related("ticket", "inbound").get(pk=message_id)


def attachment_get(*, attachment_id: int) -> Attachment:
    return Attachment.objects.select_related("message").get(pk=attachment_id)


def message_answered(ticket: Ticket) -> Message | None:
    """The message an email to the customer answers (its In-Reply-To): the newest one a person
    of the ticket's customer wrote on it, not an out-of-office reply nor a stranger in Cc, who
    never sent the customer anything; else the newest we sent, so that on a ticket opened by
    phone every email we send is one thread in the customer's mail client."""
    messages = Message.objects.filter(ticket=ticket).exclude(message_id="")
    newest = messages.order_by("-created_at", "-id")
    theirs = newest.filter(
        direction=Message.Direction.IN,
        is_automatic=False,
        contact__customer_id=ticket.customer_id,
    ).first()
    return theirs or newest.filter(direction=Message.Direction.OUT).first()


def inbound_preview(inbound: InboundMessage) -> dict:
    """What a rep reads of a stored message before deciding about it: its headers, text and
    attachments' names, or why it cannot be read."""
    from django.conf import settings

    from conversations.bodies import html_to_text, sanitise_html
    from conversations.mime import parse

    try:
        with inbound.raw.open("rb") as handle:
            mail = parse(
                handle.read(),
                attachment_max_bytes=0,
                message_max_bytes=settings.EMAIL_MESSAGE_MAX_BYTES,
            )
    except Exception as exc:  # shown to the rep: the reason is what they need
        return {"error": f"{type(exc).__name__}: {exc}"}
    text = mail.text or html_to_text(sanitise_html(mail.html))
    return {
        "from": mail.header("From") or mail.sender,
        "to": mail.header("To"),
        "cc": mail.header("Cc"),
        "subject": mail.subject,
        "date": mail.header("Date"),
        "text": text[:20_000],
        "truncated": len(text) > 20_000,
        "attachments": [(part.filename, part.size) for part in mail.attachments],
        "defects": mail.defects,
    }


def web_form_answers(inbound: InboundMessage) -> list[tuple[str, str]]:
    """What a request made on the web form asked besides its text, as (label, answer), for the
    rep who decides who wrote it; empty for mail."""
    form = inbound.form or {}
    answers = (
        ("Asked about", dict(Ticket.Kind.choices).get(form.get("kind", ""), "")),
        ("Organisation", form.get("organisation", "")),
        ("Product", form.get("product", "")),
        ("Serial number", form.get("rma_serial_number", "")),
        ("Order number", form.get("rma_order_number", "")),
        ("Return reason", form.get("rma_reason", "")),
    )
    return [(label, answer) for label, answer in answers if answer]


def inbound_waiting_counts() -> dict[str, int]:
    """How much mail waits for a rep, by the Mail page's tabs: ``triage`` (unknown senders) and
    ``quarantined``, in one query."""
    rows = dict(
        InboundMessage.objects.filter(status__in=InboundMessage.WAITING)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {
        "triage": rows.get(InboundMessage.Status.TRIAGE, 0),
        "quarantined": rows.get(InboundMessage.Status.QUARANTINED, 0),
    }
