"""The rollups behind the reports that would otherwise read most of the tickets, rewritten
whole by a periodic task (insights.tasks):

- the daily flow: tickets created and finally resolved per company day, kind and channel
  (the backlog report);
- the product customers: each customer who has had a ticket about a product, and when the
  first was created (the market report's customers of a product).

Rewritten whole rather than kept by the writers, because what a ticket counts for can change
after the fact: a reopened ticket loses its resolution day, a ticket can be given another kind
or product. A rewrite is a few grouped scans of the tickets, a few seconds at a million. Each
rollup holds what happened before the company midnight that started the day of its refresh;
the reports read it for that and count what came after from the tickets, so what they show is
never older than the last refresh, and new tickets show at once."""

import time as clock
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db import connections, router, transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from insights.models import DailyFlow, ProductCustomer, Rollup
from tickets.models import Ticket

DAILY_FLOW = "daily_flow"
PRODUCT_CUSTOMERS = "product_customers"


def _daily_flow_counts(cut: datetime) -> list[DailyFlow]:
    zone = timezone.get_current_timezone()
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
    return [
        DailyFlow(day=day, kind=kind, channel=channel, created=made, resolved=done)
        for (day, kind, channel), (made, done) in counts.items()
    ]


def _product_customers_write(cut: datetime) -> None:
    # One statement, in the database: there are as many rows as pairs of a product and a
    # customer (a hundred thousand, say), which are not worth carrying through Python.
    table, tickets = ProductCustomer._meta.db_table, Ticket._meta.db_table
    with connections[router.db_for_write(ProductCustomer)].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (product, customer_id, first_ticket_at)"  # noqa: S608
            f" SELECT product, customer_id, MIN(created_at) FROM {tickets}"
            " WHERE created_at < %s GROUP BY product, customer_id",
            [cut],
        )


def rollups_refresh() -> dict[str, int]:
    """Count everything before today's company midnight again and replace both rollups with
    the counts. Returns the rows each holds. Safe to run twice at once: the writes are
    serialised on the rollups' rows, and each run writes complete counts."""
    started = clock.monotonic()
    today = timezone.localdate()
    cut = timezone.make_aware(datetime.combine(today, time.min))
    flows = _daily_flow_counts(cut)
    for name in (DAILY_FLOW, PRODUCT_CUSTOMERS):
        Rollup.objects.get_or_create(name=name)
    with transaction.atomic():
        states = list(
            Rollup.objects.select_for_update().filter(name__in=[DAILY_FLOW, PRODUCT_CUSTOMERS])
        )
        DailyFlow.objects.all().delete()
        DailyFlow.objects.bulk_create(flows, batch_size=5000)
        ProductCustomer.objects.all().delete()
        _product_customers_write(cut)
        for state in states:
            state.complete_before = today
            state.time_zone = timezone.get_current_timezone_name()
            state.refreshed_at = timezone.now()
            state.refresh_seconds = round(clock.monotonic() - started, 3)
            state.save()
    return {DAILY_FLOW: len(flows), PRODUCT_CUSTOMERS: ProductCustomer.objects.count()}


def _state(name: str):
    """The rollup's reach and zone, or None before its first refresh."""
    return Rollup.objects.filter(name=name).values("complete_before", "time_zone").first()


def complete_before(name: str) -> date | None:
    """The first company day the rollup does not hold (it holds every day before it), or None
    when it cannot be used: never refreshed, or counted in another time zone than today's."""
    state = _state(name)
    if not state or state["time_zone"] != timezone.get_current_timezone_name():
        return None
    return state["complete_before"]


def complete_before_moment(name: str) -> datetime | None:
    """The moment the rollup holds everything before (the company midnight of its day), or
    None when it has never been refreshed."""
    state = _state(name)
    if not state or state["complete_before"] is None:
        return None
    return datetime.combine(state["complete_before"], time.min, tzinfo=ZoneInfo(state["time_zone"]))
