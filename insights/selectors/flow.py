"""Backlog and flow: tickets created, resolved and still open at the end of each day, how fast
each department answers its queue against its target, and (as information only) calls."""

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Department
from insights.aggregates import Median, NearestRank, Seconds, in_database
from insights.filters import Period
from insights.models import DailyFlow
from insights.rollups import DAILY_FLOW, complete_before
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


def _open_at(tickets, start: datetime, split: str) -> dict[str, int]:
    """Tickets open at ``start``: created before it and not finally resolved before it."""
    at_start = tickets.filter(created_at__lt=start).filter(
        Q(resolved_at__isnull=True) | Q(resolved_at__gte=start)
    )
    if not split:
        return {"": at_start.count()}
    counted = at_start.values(split).annotate(n=Count("id")).order_by()
    return {row[split]: row["n"] for row in counted}


def _stored_open_before(flows, day: date, split: str) -> dict[str, int]:
    """From the rollup: tickets created before ``day`` less those finally resolved before it."""
    before = flows.filter(day__lt=day)
    net = Sum("created") - Sum("resolved")
    if not split:
        return {"": before.aggregate(n=net)["n"] or 0}
    counted = before.values(split).annotate(n=net).order_by()
    # Only the groups with tickets open, as _open_at counts them: a kind whose tickets were all
    # resolved long ago is not a series of zeros.
    return {row[split]: row["n"] for row in counted if row["n"]}


def _stored_by_day(flows, split: str) -> tuple[dict, dict]:
    created: dict[tuple[str, date], int] = {}
    resolved: dict[tuple[str, date], int] = {}
    rows = (
        flows.values("day", *([split] if split else []))
        .annotate(made=Sum("created"), done=Sum("resolved"))
        .order_by()
    )
    for row in rows:
        key = (row.get(split, "") if split else "", row["day"])
        created[key], resolved[key] = row["made"], row["done"]
    return created, resolved


def flow(
    period: Period, condition: Q, *, split: str = "", rollup: Q | None = None
) -> list[FlowSeries]:
    """Per day of the period (company days, every day present even when nothing happened):
    tickets created, tickets resolved and tickets open at the end of the day, for all tickets
    or split by kind or channel. A ticket is open from its creation until its final
    resolution (a ticket reopened is open again from then; the gap before it was reopened
    counts as open too, since only the final resolution is kept on the ticket).

    ``rollup`` is the same condition on the daily rollup (insights.rollups), given when the
    filters are ones it can answer (kind and channel): the days it holds are read from it and
    only the days since its last refresh are counted from the tickets. Without it, or before
    the first refresh, three queries count everything from the tickets: the backlog at the
    start, and the creations and resolutions per day; the days between are running sums."""
    split = split if split in SPLITS else ""
    labels = SPLITS[split][1]
    start, end = period.bounds()
    tickets = Ticket.objects.filter(condition)
    created: dict[tuple[str, date], int] = {}
    resolved: dict[tuple[str, date], int] = {}
    stored_before = complete_before(DAILY_FLOW) if rollup is not None else None
    if stored_before is None:
        open_at_start = _open_at(tickets, start, split)
        live_from = start
    else:
        flows = DailyFlow.objects.filter(rollup or Q())
        open_at_start = _stored_open_before(flows, min(period.first, stored_before), split)
        if stored_before > period.first:
            stored = flows.filter(day__gte=period.first, day__lt=stored_before)
            created, resolved = _stored_by_day(stored, split)
        # May be before the period starts, when the last refresh is older than that.
        live_from = timezone.make_aware(datetime.combine(stored_before, time.min))
    if live_from < end:
        for counts, column, sign in ((created, "created_at", 1), (resolved, "resolved_at", -1)):
            since = tickets.filter(**{f"{column}__gte": live_from, f"{column}__lt": end})
            for (group, day), n in _by_day(since, column, split).items():
                if day < period.first:  # between the rollup's end and the period's start
                    open_at_start[group] = open_at_start.get(group, 0) + sign * n
                else:
                    counts[(group, day)] = counts.get((group, day), 0) + n
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


def _figures_here(items, counts: list[dict]) -> list[dict]:
    """The medians and 90th percentiles of ``department_response`` computed here, for a
    database without ordered-set aggregates."""
    waits: dict[int, list[float]] = {}
    for department_id, arrived, acted in items.filter(acted_at__isnull=False).values_list(
        "department", "created_at", "acted_at"
    ):
        waits.setdefault(department_id, []).append(max((acted - arrived).total_seconds(), 0))
    for row in counts:
        row["median"], row["p90"] = _hours(waits.get(row["department"], []))
    return counts


def department_response(
    period: Period, condition: Q, *, department: Department | None = None
) -> list[ResponseRow]:
    """Per department, the queue items that arrived in the period: how many were
    acknowledged, how long that took (median and 90th percentile, calendar hours; the target
    itself is in working hours and already counted into each item's due time), and how many
    missed the target: acknowledged after it was due, or still waiting with the due time
    past. Two queries on PostgreSQL (the percentiles over the acknowledged items beside the
    counts, then the departments' names); three elsewhere."""
    start, end = period.bounds()
    now = timezone.now()
    items = Notification.objects.filter(condition, created_at__gte=start, created_at__lt=end)
    if department is not None:
        items = items.filter(department=department)
    missed = Q(due_at__isnull=False) & (
        Q(acted_at__gt=F("due_at")) | Q(acted_at__isnull=True, due_at__lt=now)
    )
    acted = Q(acted_at__isnull=False)
    # Grouped by the department's id alone, its name read after: sorting the rows by a name
    # and a slug as well made the sort four times as wide (and spill to disk over a year).
    counts = items.values("department").annotate(
        n=Count("id"),
        acknowledged=Count("id", filter=acted),
        breached=Count("id", filter=missed),
    )
    if in_database(items):
        wait = Seconds("acted_at", "created_at")
        counts = counts.annotate(
            median=Median(wait, filter=acted), p90=NearestRank(wait, 0.9, filter=acted)
        )
        rows = list(counts.order_by())
        for row in rows:
            for name in ("median", "p90"):
                row[name] = None if row[name] is None else round(row[name] / 3600, 1)
    else:
        rows = _figures_here(items, list(counts.order_by()))
    departments = Department.objects.in_bulk()  # a handful
    rows.sort(key=lambda row: departments[row["department"]].name)
    return [
        ResponseRow(
            department=departments[row["department"]].name,
            slug=departments[row["department"]].slug,
            target_hours=departments[row["department"]].response_target_hours,
            items=row["n"],
            acknowledged=row["acknowledged"],
            median_hours=row["median"],
            p90_hours=row["p90"],
            breached=row["breached"],
        )
        for row in rows
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
            # Counting the durations (never null here) rather than the ids keeps the scan
            # inside the calls index.
            n=Count("call_duration_seconds"),
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
