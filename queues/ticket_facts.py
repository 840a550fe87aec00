"""The ticket page's response targets: each department still to act on the ticket, and when
it must take the ticket on (its queue item's ``due_at``) or who did. Registered with tickets'
page facts, so tickets imports nothing from here."""

from queues.models import Notification


def response_targets(*, request, ticket) -> dict | None:
    items = (
        Notification.objects.filter(ticket=ticket)
        .exclude(status=Notification.Status.DONE)
        .select_related("department", "acted_by")
        .order_by("due_at", "id")
    )
    items = list(items)
    return {"target_items": items} if items else None
