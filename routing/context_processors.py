"""What the navigation shows on every page: new items in the user's queues, due follow-ups."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from routing.selectors import followup_counts_for_user, queue_counts_for_user


def work_counts(request) -> dict:
    """Lazy: fragments rendered without the navigation (the timeline the ticket page polls)
    cost no query for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def counts() -> dict:
        queues = queue_counts_for_user(user)
        return {
            "queues": queues,
            "new_items": sum(q["new_count"] for q in queues),
            "past_target": sum(q["overdue_count"] for q in queues),
            # Escalations reach the leads in the application too, not only by email.
            "escalated": sum(q["escalated_count"] for q in queues),
            "followups": followup_counts_for_user(user),
            "sells": any(q["slug"] == "sales" for q in queues),
            "refresh_seconds": settings.NAV_COUNTS_REFRESH_SECONDS,
        }

    return {"nav_work": SimpleLazyObject(counts)}
