"""Backlog and flow: tickets created, resolved and still open at the end of each day, how fast
each department answers its queue against its target, and (as information only) calls."""

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Department
from insights.aggregates import Median, NearestRank, Seconds, in_database
from insights.filters import Period
from queues.models import Notification
from tickets.models import Ticket, TimelineEntry

SPLITS = {
    "": ("All tickets", {}),
    "kind": ("Kind", dict(Ticket.Kind.choices)),
    "channel": ("Channel", dict(Ticket.Channel.choices)),
}


@dataclass
class FlowDay:
    day: date
    created: int
    resolved: int
    open: int  # at the end of the day: created by then and not (finally) resolved by then


@dataclass
class FlowSeries:
    group: str  # "" for all tickets, else the kind's or channel's value
    label: str
    open_at_start: int
    days: list[FlowDay] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(day.created for day in self.days)

    @property
    def resolved(self) -> int:
        return sum(day.resolved for day in self.days)

    @property
    def open_at_end(self) -> int:
        return self.days[-1].open if self.days else self.open_at_start


def _by_day(tickets, column: str, split: str) -> dict[tuple[str, date], int]:
    rows = (
        tickets.annotate(day=TruncDate(column, tzinfo=timezone.get_current_timezone()))
        .values("day", *([split] if split else []))
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(row.get(split, "") if split else "", row["day"]): row["n"] for row in rows}


def flow(period: Period, condition: Q, *, split: str = "") -> list[FlowSeries]:
    """Per day of the period (company days, every day present even when nothing happened):
    tickets created, tickets resolved and tickets open at the end of the day, for all tickets
    or split by kind or channel. A ticket is open from its creation until its final
    resolution (a ticket reopened is open again from then; the gap before it was reopened
    counts as open too, since only the final resolution is kept on the ticket).

    Three queries whatever the length of the period: the backlog at the start, and the
    counts per day of creations and of resolutions; the days between are running sums."""
    split = split if split in SPLITS else ""
    labels = SPLITS[split][1]
    start, end = period.bounds()
    tickets = Ticket.objects.filter(condition)
    at_start = tickets.filter(created_at__lt=start).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=start)
    )
    if split:
        counted = at_start.values(split).annotate(n=Count("id")).order_by()
        open_at_start = {row[split]: row["n"] for row in counted}
    else:
        open_at_start = {"": at_start.count()}
    created = _by_day(
        tickets.filter(created_at__gte=start, created_at__lt=end), "created_at", split
    )
    resolved = _by_day(
        tickets.filter(resolved_at__gte=start, resolved_at__lt=end), "resolved_at", split
    )
    groups = set(open_at_start) | {group for group, _ in created} | {g for g, _ in resolved}
    if not split:
        groups.add("")
    series = []
    for group in sorted(groups, key=lambda g: list(labels).index(g) if g in labels else 99):
        running = open_at_start.get(group, 0)
        line = FlowSeries(group, labels.get(group, group) or "All tickets", running)
        for offset in range(period.days):
            day = period.first + timedelta(days=offset)
            new, done = created.get((group, day), 0), resolved.get((group, day), 0)
            running += new - done
            line.days.append(FlowDay(day, new, done, running))
        series.append(line)
    return series


# --- department response against target ---------------------------------------------------------


@dataclass
class ResponseRow:
    department: str
    slug: str
    target_hours: int  # working hours to acknowledge a new queue item
    items: int  # queue items created in the period
    acknowledged: int
    median_hours: float | None  # calendar hours from arrival to acknowledgement
    p90_hours: float | None
    breached: int  # acknowledged after the target, or still waiting past it

    @property
    def breach_rate(self) -> float:
        return self.breached / self.items if self.items else 0.0


def _hours(seconds: list[float]) -> tuple[float | None, float | None]:
    """Median and 90th percentile (nearest rank, as time to fix) in hours."""
    if not seconds:
        return None, None
    ordered = sorted(seconds)
    rank = max(math.ceil(0.9 * len(ordered)), 1)
    return round(statistics.median(ordered) / 3600, 1), round(ordered[rank - 1] / 3600, 1)


def _waits(acknowledged) -> dict[int, tuple[float | None, float | None]]:
    """Per department, the median and 90th percentile wait before acknowledgement, in hours:
    computed by the database from its rows where it can, else here."""
    if in_database(acknowledged):
        wait = Seconds("acted_at", "created_at")
        return {
            row["department"]: (round(row["median"] / 3600, 1), round(row["p90"] / 3600, 1))
            for row in acknowledged.values("department")
            .annotate(median=Median(wait), p90=NearestRank(wait, 0.9))
            .order_by()
        }
    waits: dict[int, list[float]] = {}
    for department_id, arrived, acted in acknowledged.values_list(
        "department", "created_at", "acted_at"
    ):
        waits.setdefault(department_id, []).append(max((acted - arrived).total_seconds(), 0))
    return {department_id: _hours(seconds) for department_id, seconds in waits.items()}


def department_response(
    period: Period, condition: Q, *, department: Department | None = None
) -> list[ResponseRow]:
    """Per department, the queue items that arrived in the period: how many were
    acknowledged, how long that took (median and 90th percentile, calendar hours; the target
    itself is in working hours and already counted into each item's due time), and how many
    missed the target: acknowledged after it was due, or still waiting with the due time
    past. Two queries."""
    start, end = period.bounds()
    now = timezone.now()
    items = Notification.objects.filter(condition, created_at__gte=start, created_at__lt=end)
    if department is not None:
        items = items.filter(department=department)
    missed = Q(due_at__isnull=False) & (
        Q(acted_at__gt=F("due_at")) | Q(acted_at__isnull=True, due_at__lt=now)
    )
    counts = (
        items.values(
            "department",
            "department__name",
            "department__slug",
            "department__response_target_hours",
        )
        .annotate(
            n=Count("id"),
            acknowledged=Count("id", filter=Q(acted_at__isnull=False)),
            breached=Count("id", filter=missed),
        )
        .order_by("department__name")
    )
    spreads = _waits(items.filter(acted_at__isnull=False))
    return [
        ResponseRow(
            department=row["department__name"],
            slug=row["department__slug"],
            target_hours=row["department__response_target_hours"],
            items=row["n"],
            acknowledged=row["acknowledged"],
            median_hours=spreads.get(row["department"], (None, None))[0],
            p90_hours=spreads.get(row["department"], (None, None))[1],
            breached=row["breached"],
        )
        for row in counts
    ]


# --- calls, as information ------------------------------------------------------------------------


@dataclass
class CallFigures:
    """Calls logged in the period. Shown for information only: the time a call takes says
    nothing of whether the customer's problem went away, so it is never ranked by rep."""

    calls: int
    total_minutes: float
    median_minutes: float | None


def calls_logged(period: Period, condition: Q) -> CallFigures:
    """Calls logged in the period on the tickets that count (``condition`` is on the call's
    ticket, as ``ticket__...``)."""
    start, end = period.bounds()
    calls = TimelineEntry.objects.filter(
        condition,
        call_duration_seconds__isnull=False,
        created_at__gte=start,
        created_at__lt=end,
    )
    if in_database(calls):
        figures = calls.aggregate(
            n=Count("id"),
            total=Sum("call_duration_seconds"),
            median=Median("call_duration_seconds"),
        )
        count, total, median = figures["n"], figures["total"] or 0, figures["median"]
    else:
        seconds = [
            s for s in calls.values_list("call_duration_seconds", flat=True) if s is not None
        ]
        count, total = len(seconds), sum(seconds)
        median = statistics.median(seconds) if seconds else None
    return CallFigures(
        calls=count,
        total_minutes=round(total / 60, 1),
        median_minutes=None if median is None else round(median / 60, 1),
    )
