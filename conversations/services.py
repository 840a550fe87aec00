"""What a rep does with mail that waits for them (docs/email.md, "What waits for a rep"): say
who sent it, put it on a ticket, or have it processed again. Processing itself is
``conversations.processing``.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Contact, Customer, User
from accounts.services import contact_create
from conversations import robots
from conversations.models import InboundMessage, Message, SenderAddress
from conversations.processing import Sender, finish, inbound_process, message_add
from conversations.selectors import contacts_for_address
from conversations.stored import read_stored
from conversations.texts import texts_of
from helpdesk.queue import enqueue_on_commit
from tickets.models import Ticket

Status = InboundMessage.Status


def _reopen_for_processing(inbound: InboundMessage) -> None:
    """Make a waiting message pending again, in one conditional UPDATE: of two reps (or one
    double click) acting on it at once, the second is refused rather than processing it
    twice."""
    waiting = InboundMessage.objects.filter(pk=inbound.pk, status__in=InboundMessage.WAITING)
    if not waiting.update(status=Status.PENDING):
        raise ValidationError({"inbound": "This message no longer waits for a rep."})


def inbound_retry(*, inbound: InboundMessage) -> str:
    """Process a waiting message again (after a fix, or once a contact was added)."""
    _reopen_for_processing(inbound)
    return inbound_process(inbound_id=inbound.pk)


@transaction.atomic
def inbound_assign(
    *,
    inbound: InboundMessage,
    actor: User,
    contact: Contact | None = None,
    customer: Customer | None = None,
    contact_name: str = "",
) -> str:
    """Say who sent a waiting message: one of the customer's contacts, or a new contact of the
    customer (with the sender's address). The sender is remembered, so their next message
    finds them; the message is then processed (a ticket opened, or added to the one it
    answers), and so is every other message of theirs waiting in triage."""
    if contact is None and customer is None:
        raise ValidationError({"contact": "Choose a contact, or a customer to add one to."})
    _reopen_for_processing(inbound)  # first: refused, nothing below is written
    if contact is None:
        name = contact_name.strip() or inbound.sender.split("@")[0] or "Unknown"
        contact = contact_create(customer=customer, name=name[:200], email=inbound.sender)
    elif inbound.sender and (
        contact.email.lower() != inbound.sender.lower()
        or Contact.objects.filter(email__iexact=inbound.sender).exclude(pk=contact.pk).exists()
    ):
        # Remembered even when it is the contact's own email, if others share it: the rep said
        # which of them writes from it. The latest word counts.
        SenderAddress.objects.update_or_create(
            email=inbound.sender.lower(), defaults={"contact": contact}
        )
    status = inbound_process(inbound_id=inbound.pk, contact=contact)
    _process_the_rest_of(inbound.sender, but=inbound.pk)
    return status


def _process_the_rest_of(sender: str, *, but: int) -> None:
    """What else the sender wrote meanwhile waits no longer: they are known now. The messages
    are processed by a task once this transaction commits, in the order they came, each in a
    transaction of its own: processed here, each would add its ticket's lock to the locks this
    transaction holds (the sender's, the first ticket's), in an order a worker processing the
    same sender's new mail takes them the other way round (a deadlock); and a sender with
    fifty waiting messages would keep the rep waiting for all fifty. Pending, a message whose
    task is lost is processed by the sweep."""
    from conversations.tasks import process_inbound_in_order

    others = list(
        InboundMessage.objects.filter(status=Status.TRIAGE, sender=sender)
        .exclude(pk=but)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)
    )
    if not others:
        return
    InboundMessage.objects.filter(pk__in=others, status=Status.TRIAGE).update(status=Status.PENDING)
    enqueue_on_commit(process_inbound_in_order, others)


@transaction.atomic
def inbound_dismiss(*, inbound: InboundMessage, actor: User) -> None:
    """Set aside a waiting message that is no business of the help desk (spam, a newsletter,
    mail meant for someone else): it waits no longer, and is kept, with who dismissed it."""
    locked = InboundMessage.objects.select_for_update().get(pk=inbound.pk)
    if locked.status not in InboundMessage.WAITING:
        raise ValidationError({"inbound": "This message no longer waits for a rep."})
    who = actor.get_full_name() or actor.username
    finish(locked, Status.DISMISSED, f"Dismissed by {who} (was: {locked.reason})")


@transaction.atomic
def inbound_attach(*, inbound: InboundMessage, ticket: Ticket, actor: User) -> Message:
    """Put a waiting message on a ticket a rep chose, as a message received."""
    locked = InboundMessage.objects.select_for_update().get(pk=inbound.pk)
    if locked.status not in InboundMessage.WAITING:
        raise ValidationError({"inbound": "This message no longer waits for a rep."})
    mail = read_stored(locked)
    message = message_add(
        inbound=locked,
        mail=mail,
        ticket=ticket,
        sender=Sender(mail.sender, contacts_for_address(mail.sender)),
        is_automatic=robots.classify(mail).is_robot,
        texts=texts_of(mail),
    )
    locked.ticket = ticket
    who = actor.get_full_name() or actor.username
    finish(locked, Status.APPENDED, f"Put on {ticket.reference} by {who}; message {message.pk}.")
    return message
