"""A recipient's address that takes no mail: told by our own mail server when it refuses the
recipient for good, or by a bounce later. Its contacts are marked, and what waits for it is
not sent."""

import re
import smtplib

from accounts.services import contacts_mark_bouncing
from deliveries.models import EmailDelivery

Status = EmailDelivery.Status

# RFC 3463 and 7505: the destination address is bad (5.1.1 no such user, 5.1.2 no such
# domain, 5.1.3 bad syntax, 5.1.6 moved, 5.1.10 null MX) or its mailbox disabled (5.2.1). Not
# the rest of 5.1 (5.1.7, 5.1.8 are about our sender address, which Postfix reports at the
# recipient), nor 5.7.x (a refusal by policy: relaying denied to us): those say nothing of the
# recipient, and would mark every customer written to.
_ADDRESS_GONE = re.compile(r"^5\.(1\.(1|2|3|6|10)|2\.1)\b")


def address_gone(exc: Exception) -> bool:
    """Whether the recipient was refused for good because the address does not take mail."""
    if not isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    for code, message in exc.recipients.values():
        text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
        if code >= 500 and _ADDRESS_GONE.match(text.strip()) and "sender" not in text.lower():
            return True
    return False


def emails_suppress_to(*, address: str, reason: str) -> int:
    """Send nothing more of what waits for this address (it bounces): an email queued before
    the bounce came, a retry, is suppressed with the reason. How many were."""
    waiting = [Status.PENDING, Status.RETRYING]
    return EmailDelivery.objects.filter(recipient__iexact=address, status__in=waiting).update(
        status=Status.SUPPRESSED,
        reason=f"The address bounces: {reason}"[:300],
        next_attempt_at=None,
        enqueued_at=None,
    )


def address_refused(*, address: str, reason: str) -> None:
    """Our server refused ``address`` for good, as a bounce would later say: a contact with it
    is marked, and nothing else waiting for it is sent."""
    contacts_mark_bouncing(email=address, reason=reason)
    emails_suppress_to(address=address, reason=reason)
