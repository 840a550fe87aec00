"""The stored message as processing takes it: its row locked for the one transaction that
decides what it is, and its bytes read back within the attachment limits."""

from django.conf import settings
from django.db import connection
from django.db.models.expressions import RawSQL

from conversations.mime import ParsedMail, parse
from conversations.models import InboundMessage
from helpdesk.prepared import PreparedQuery


def read_stored(inbound: InboundMessage) -> ParsedMail:
    """The stored message, parsed within the attachment limits."""
    with inbound.raw.open("rb") as handle:
        return parse(
            handle,
            attachment_max_bytes=settings.EMAIL_ATTACHMENT_MAX_BYTES,
            message_max_bytes=settings.EMAIL_MESSAGE_MAX_BYTES,
        )


def _locked(inbound_id: int, *, asynchronous: bool):
    rows = InboundMessage.objects.select_for_update(of=("self",)).select_related("mailbox")
    if asynchronous:
        rows = rows.annotate(_commit=RawSQL("set_config('synchronous_commit', 'off', true)", ()))
    return rows.filter(pk=inbound_id).order_by()


# Read for every message processed: their SQL is built once (helpdesk.prepared).
_LOCKED = PreparedQuery(lambda inbound_id: _locked(inbound_id, asynchronous=False))
_LOCKED_COMMITTING_ASYNCHRONOUSLY = PreparedQuery(
    lambda inbound_id: _locked(inbound_id, asynchronous=True)
)


def locked(inbound_id: int) -> InboundMessage:
    outermost = len(connection.atomic_blocks) == 1
    if settings.EMAIL_ASYNCHRONOUS_COMMIT and outermost and connection.vendor == "postgresql":
        # This transaction's COMMIT then returns without waiting for the disk (set in the
        # statement that locks the row, not one more). Nothing can be lost: the message was
        # stored by a synchronous commit; what processing makes of it is durable before anything
        # leaves (sending an email starts with its claim, a synchronous commit, which flushes
        # the log up to itself, this commit with it); a crash before that leaves the message
        # pending, and the sweep processes it again.
        found = _LOCKED_COMMITTING_ASYNCHRONOUSLY(inbound_id)
    else:
        found = _LOCKED(inbound_id)
    if not found:
        raise InboundMessage.DoesNotExist(f"No inbound message {inbound_id}")
    return found[0]
