"""Who has a ticket's page open: each open page says so every TICKET_LIVE_SECONDS (``ticket-live``),
and the others' names show on it ("erin is viewing"), so two reps do not answer one customer
twice.

Kept in the shared "presence" cache (Redis when there is one), one entry per ticket holding
each viewer's name and when they were last seen. Two pages reporting at the same instant may
each write the entry without the other's mark; the lost mark returns with that page's next
report, seconds later, which is as accurate as presence needs to be. Unreachable, the cache is
skipped: no one is shown as viewing, and the page works as before.
"""

import time

from django.conf import settings
from django.core.cache import caches


def gone_after_seconds() -> int:
    """A page reports every TICKET_LIVE_SECONDS; a viewer not seen for three reports has left."""
    return 3 * settings.TICKET_LIVE_SECONDS


def _key(ticket_id: int) -> str:
    return f"ticket:{ticket_id}:viewers"


def presence_report(*, ticket_id: int, user, now: float | None = None) -> list[str]:
    """Mark ``user`` as viewing the ticket; answer the names of the others viewing it."""
    now = time.time() if now is None else now
    gone_after = gone_after_seconds()
    cache = caches["presence"]
    try:
        viewers = cache.get(_key(ticket_id)) or {}
        viewers = {
            pk: (name, seen) for pk, (name, seen) in viewers.items() if now - seen < gone_after
        }
        viewers[str(user.pk)] = (user.get_full_name() or user.username, now)
        cache.set(_key(ticket_id), viewers, timeout=gone_after)
    except Exception:  # noqa: BLE001 - presence is a courtesy; a cache outage must not fail pages
        return []
    return sorted(name for pk, (name, _) in viewers.items() if pk != str(user.pk))
