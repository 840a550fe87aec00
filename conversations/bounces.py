"""What a bounce (a delivery failure report) does: it marks the failed address, and says so on
the ticket whose email bounced. It opens no ticket and is never answered."""

import re

from accounts.services import contacts_mark_bouncing
from conversations.mime import DeliveryReport, ParsedMail, addresses, normalise_message_id
from conversations.models import InboundMessage, Message
from deliveries.models import EmailDelivery
from deliveries.refusals import emails_suppress_to
from tickets.models import MessageDirection, Ticket, TimelineEntry
from tickets.services import timeline_record

Status = InboundMessage.Status


# A bounce in plain text (Exim's) copies the original below its own words, headers
# first: the first Message-ID line of its text is the original's.
_COPIED_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)


def _copied_message_id(mail: ParsedMail) -> str:
    for part in mail.message.walk():
        if part.get_content_type() == "text/plain":
            found = _COPIED_MESSAGE_ID.search(part.get_payload(decode=True) or b"")
            if found:
                return normalise_message_id(found[1].decode("ascii", "replace"))
    return ""


def _failed_reports(mail: ParsedMail) -> list[DeliveryReport]:
    """What the bounce says failed for good: its delivery status reports, else (a bounce in
    plain text) the addresses of its X-Failed-Recipients."""
    failed = [
        report
        for report in mail.reports
        if report.action == "failed" or report.status.startswith("5")
    ]
    if failed or mail.reports:
        return failed
    return [
        DeliveryReport(recipient=address, action="failed", status="", diagnostic="")
        for _, address in addresses(mail.message, "X-Failed-Recipients")
    ]


def _bounced_email(mail: ParsedMail) -> tuple[Ticket | None, set[str]]:
    """The ticket whose email a bounce reports on, and the addresses that email went to: found
    by the Message-ID the report encloses (ours, or the one the provider gave it)."""
    reported = mail.reported_message_id or _copied_message_id(mail)
    if not reported:
        return None, set()
    sent = (
        Message.objects.filter(direction=MessageDirection.OUT, message_id=reported)
        .select_related("ticket")
        .first()
    )
    if sent is not None:
        return sent.ticket, {address.lower() for address in sent.to}
    delivery = (
        EmailDelivery.objects.filter(
            provider_message_id__in=[reported, reported.split("@")[0]], ticket__isnull=False
        )
        .select_related("ticket")
        .first()
    )
    if delivery is not None:
        return delivery.ticket, {delivery.recipient.lower()}
    return None, set()


def bounce_record(mail: ParsedMail, verdict) -> tuple[str, str, Ticket | None]:
    """Mark each address reported as failed for good as bouncing, and say so on the ticket whose
    email bounced. Only an address that email went to is marked: a report anyone can write
    about any address (a forged bounce) must not silence mail to a customer."""
    failed = _failed_reports(mail)
    ticket, sent_to = _bounced_email(mail)
    marked = []
    for report in failed:
        if report.recipient not in sent_to:
            continue
        # A plain-text bounce says neither: what told it was one stands in.
        reason = f"{report.status} {report.diagnostic}".strip() or (
            f"delivery failed ({verdict.reason})"
        )
        if contacts_mark_bouncing(email=report.recipient, reason=reason):
            marked.append(report.recipient)
        emails_suppress_to(address=report.recipient, reason=reason)
    if ticket is not None:
        recipients = ", ".join(report.recipient for report in failed) or "the customer"
        timeline_record(
            ticket=ticket,
            kind=TimelineEntry.Kind.MESSAGE,
            body=f"Our email to {recipients} could not be delivered ({verdict.reason}).",
            changes={
                "bounce": ", ".join(report.status for report in failed if report.status)
                or "unknown"
            },
        )
    said = f"A bounce ({verdict.reason})"
    if marked:
        said += f"; marked as bouncing: {', '.join(marked)}"
    if ticket is not None:
        said += f"; recorded on {ticket.reference}"
    return Status.BOUNCE, said + ".", ticket
