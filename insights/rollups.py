"""The daily rollup behind the backlog report: tickets created and finally resolved per
company day, kind and channel, rewritten whole by a periodic task (insights.tasks).

Rewritten whole rather than kept by the writers, because the days a ticket counts on can change
after the fact: a reopened ticket loses its resolution day, and a ticket can be reclassified to
another kind. A rewrite is two grouped scans of the tickets, a few seconds at a million; the
report reads the rollup for the days it holds and counts the days since (today at least) from
the tickets, so what it shows is never older than the last refresh, and new tickets show at
once."""

import time as clock
from datetime import date, datetime, time

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from insights.models import DailyFlow, Rollup
from tickets.models import Ticket

DAILY_FLOW = "daily_flow"


def daily_flow_refresh() -> int:
    """Count every company day before today again, and replace the rollup with the counts.
    Returns the number of rows written. Safe to run twice at once: the writes are serialised
    on the rollup's row, and each run writes complete counts."""
    started = clock.monotonic()
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    cut = timezone.make_aware(datetime.combine(today, time.min))
    counts: dict[tuple[date, str, str], list[int]] = {}
    for index, column in enumerate(("created_at", "resolved_at")):
        rows = (
            Ticket.objects.filter(**{f"{column}__lt": cut})
            .annotate(day=TruncDate(column, tzinfo=zone))
            .values("day", "kind", "channel")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            counts.setdefault((row["day"], row["kind"], row["channel"]), [0, 0])[index] = row["n"]
    Rollup.objects.get_or_create(name=DAILY_FLOW)
    with transaction.atomic():
        state = Rollup.objects.select_for_update().get(name=DAILY_FLOW)
        DailyFlow.objects.all().delete()
        DailyFlow.objects.bulk_create(
            (
                DailyFlow(day=day, kind=kind, channel=channel, created=made, resolved=done)
                for (day, kind, channel), (made, done) in counts.items()
            ),
            batch_size=5000,
        )
        state.complete_before = today
        state.time_zone = timezone.get_current_timezone_name()
        state.refreshed_at = timezone.now()
        state.refresh_seconds = round(clock.monotonic() - started, 3)
        state.save()
    return len(counts)


def daily_flow_complete_before() -> date | None:
    """The first company day the rollup does not hold (it holds every day before it), or None
    when it cannot be used: never refreshed, or counted in another time zone than today's."""
    state = Rollup.objects.filter(name=DAILY_FLOW).values("complete_before", "time_zone").first()
    if not state or state["time_zone"] != timezone.get_current_timezone_name():
        return None
    return state["complete_before"]
