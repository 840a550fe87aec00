"""The ticket page's response targets: each department still to act on the ticket, and when
it must take the ticket on (its queue item's ``due_at``) or who did. Registered with tickets'
page facts, so tickets imports nothing from here."""

from queues.models import Notification
from queues.selectors import departments_for_user


def response_targets(*, request, ticket) -> dict | None:
    items = (
        Notification.objects.filter(ticket=ticket)
        .exclude(status=Notification.Status.DONE)
        .select_related("department", "acted_by")
        .order_by("due_at", "id")
    )
    items = list(items)
    if not items:
        return None
    # Each department's item links to its queue for those who work it; others read the target.
    workable = set(departments_for_user(request.user).values_list("pk", flat=True))
    return {"target_items": items, "workable": workable}
