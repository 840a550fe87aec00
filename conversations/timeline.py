"""How the conversation shows on a ticket, and how a note made public reaches the customer.

Registered at start-up (``ConversationsConfig.ready``): tickets never import this app.
"""

from tickets.models import TicketEvent, TimelineEntry


def send_public_notes(event: TicketEvent) -> None:
    """A note a rep made visible to the customer is emailed to them, once (outbox subscriber)."""
    if event.type != TicketEvent.Type.NOTE_ADDED:
        return
    changes = event.changes or {}
    if changes.get("is_internal", True) or changes.get("is_call"):
        return
    from conversations.replies import public_note_send

    entry = TimelineEntry.objects.filter(pk=changes.get("entry_id")).first()
    if entry is not None:
        public_note_send(entry=entry)


def register() -> None:
    from conversations.models import Message
    from conversations.views.replies import reply_section
    from tickets.outbox import subscribe
    from tickets.page_sections import ticket_page_section_register
    from tickets.timeline_extras import timeline_extras_register
    from tickets.timeline_labels import timeline_keys_hide, timeline_labels_register

    subscribe(send_public_notes)
    ticket_page_section_register(
        name="reply", template="conversations/reply_section.html", context=reply_section
    )
    timeline_labels_register(key="direction", labels=dict(Message.Direction.choices))
    timeline_labels_register(key="channel", labels=dict(Message.Channel.choices))
    timeline_keys_hide("direction", "channel")
    timeline_extras_register(
        kinds=(TimelineEntry.Kind.MESSAGE, TimelineEntry.Kind.CREATED),
        template="conversations/timeline_message.html",
        load=_messages_of,
    )


def _messages_of(entries: list[TimelineEntry]) -> dict[int, dict]:
    from conversations.selectors import messages_for_entries
    from deliveries.models import EmailDelivery

    messages = messages_for_entries([entry.pk for entry in entries])
    delivery_ids = [message.delivery_id for message in messages.values() if message.delivery_id]
    deliveries = EmailDelivery.objects.in_bulk(delivery_ids) if delivery_ids else {}
    return {
        entry_id: {"message": message, "delivery": deliveries.get(message.delivery_id)}
        for entry_id, message in messages.items()
    }
