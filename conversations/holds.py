"""What makes a message wait for a person rather than be decided alone: nobody, or several
contacts, write from its address; its sender opened too many tickets within the hour (a
script or a loop). ``Held`` carries the status it waits in and why."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from accounts.models import Contact
from conversations.mime import ParsedMail
from conversations.models import InboundMessage
from helpdesk.prepared import PreparedQuery

Status = InboundMessage.Status


class Held(Exception):
    """The message waits for a person; the text says why."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def the_contact(
    inbound, mail, contacts: list[Contact], *, unknown: str, checked: bool = False
) -> Contact:
    """The one contact a new request is from, within the hourly limit of one sender; else the
    request waits for a rep (``unknown``: why, when nobody has the address). ``checked``: a rep
    named the contact, which releases a message the limit held."""
    if not contacts:
        raise Held(Status.TRIAGE, unknown)
    if len(contacts) > 1:
        # Several share the address: the one a rep said writes from it, if they said.
        chosen = [known for known in contacts if getattr(known, "remembered", False)]
        if len(chosen) != 1:
            names = ", ".join(f"{known.name} ({known.customer})" for known in contacts[:5])
            raise Held(Status.TRIAGE, f"{mail.sender} is the address of several contacts: {names}.")
        contacts = chosen
    if not checked:
        _check_flood(inbound, mail)
    return contacts[0]


# Counted for every new request: its SQL is built once (helpdesk.prepared). One row (the
# sender's count) or none.
_TICKETS_OPENED_SINCE = PreparedQuery(
    lambda sender, since, inbound_id: (
        InboundMessage.objects.filter(sender=sender, status=Status.TICKET, received_at__gte=since)
        .exclude(pk=inbound_id)
        .order_by()
        .values("sender")
        .annotate(opened=Count("pk"))
        .values_list("opened", flat=True)
    )
)


def _check_flood(inbound: InboundMessage, mail: ParsedMail) -> None:
    """Hold a sender's mail for review once they opened EMAIL_SENDER_HOURLY_LIMIT tickets
    within the hour: a script or a loop, not a customer, sends hundreds."""
    since = timezone.now() - timedelta(hours=1)
    opened = sum(_TICKETS_OPENED_SINCE(mail.sender, since, inbound.pk))
    if opened >= settings.EMAIL_SENDER_HOURLY_LIMIT:
        raise Held(
            Status.QUARANTINED,
            f"{mail.sender} opened {opened} tickets within the hour (limit "
            f"{settings.EMAIL_SENDER_HOURLY_LIMIT}): held for review.",
        )
