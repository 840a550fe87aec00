"""What the navigation shows on every page: new items in the user's queues, due follow-ups."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from queues.selectors import followup_counts_for_user, nav_counts_for_user


def work_counts(request) -> dict:
    """Lazy: fragments rendered without the navigation (the timeline the ticket page polls)
    cost no query for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def counts() -> dict:
        nav = nav_counts_for_user(user)
        return {
            **nav,  # escalations reach the leads in the application too, not only by email
            "followups": followup_counts_for_user(user),
            "sells": any(q["slug"] == "sales" for q in nav["queues"]),
            "refresh_seconds": settings.NAV_COUNTS_REFRESH_SECONDS,
        }

    return {"nav_work": SimpleLazyObject(counts)}
