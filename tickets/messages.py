"""What a message of the conversation with the customer does to its ticket.

The conversation itself (a message's text, HTML, headers and attachments) belongs to the app
that carries it (``conversations``). The ticket keeps a ``message`` timeline entry for each, so
its timeline reads the whole story (and its search all but our automatic replies' boilerplate),
and a message received emits ``ticket.message_received``, which rules react to like any other
event.
"""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from tickets.limits import TEXT_MAX_LENGTH
from tickets.models import MessageDirection, MessageSender, Ticket, TicketEvent, TimelineEntry
from tickets.outbox import event_record
from tickets.services import entry_search_words, search_text_plus


def _entry_body(text: str) -> str:
    if len(text) <= TEXT_MAX_LENGTH:
        return text
    # The message keeps all of it; the timeline and the search hold what a person reads first.
    return text[: TEXT_MAX_LENGTH - 1] + "…"


# No savepoint: nothing below refuses anything, so an error is the database's, and fails the
# caller's transaction whole (two statements fewer for every message).
@transaction.atomic(savepoint=False)
def message_entry_record(
    *,
    ticket: Ticket,
    direction: str,
    body: str,
    channel: str,
    author: User | None = None,
    sender: str = MessageSender.UNKNOWN,
    is_automatic: bool = False,
    searchable: bool = True,
) -> TimelineEntry:
    """Put a message on the ticket's timeline; a reply by staff is the first response if there
    was none; a message received emits ``ticket.message_received``. (The message that opens a
    ticket is told by ``ticket.created``, on its first entry.)

    ``searchable=False`` only for the automatic reply sent in the transaction that opened the
    ticket (an acknowledgement): its words are the same for every customer and would make
    every ticket match them, and the ticket was written moments ago, so it is left as it is
    (neither its search text nor its ``updated_at`` changes)."""
    body = _entry_body(body)
    entry = TimelineEntry.objects.create(
        ticket=ticket,
        kind=TimelineEntry.Kind.MESSAGE,
        author=author,
        body=body,
        is_internal=False,
        changes={"direction": direction, "channel": channel},
    )
    now = timezone.now()
    if searchable:
        words = entry_search_words(kind=entry.kind, body=body, changes=None)
        update: dict = {"updated_at": now}
        if words:
            update["search_text"] = search_text_plus(words)
        Ticket.objects.filter(pk=ticket.pk).update(**update)
    if direction == MessageDirection.OUT and author is not None:
        Ticket.objects.filter(pk=ticket.pk, first_response_at__isnull=True).update(
            first_response_at=now
        )
    if direction == MessageDirection.IN:
        ticket.refresh_from_db()
        event_record(
            ticket=ticket,
            type=TicketEvent.Type.MESSAGE_RECEIVED,
            actor=None,
            changes={
                "entry_id": entry.pk,
                "message": {
                    "direction": direction,
                    "channel": channel,
                    "sender": sender,
                    "is_automatic": is_automatic,
                },
            },
        )
    return entry
