"""Reads for the reports. Each report is a few aggregate queries, whatever the number of tickets."""

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q

from accounts.models import Department
from helpdesk.calendar import working_hours_between
from insights.filters import Period
from insights.models import DEFAULT_OWNERS, RootCauseOwner
from tickets.models import Ticket, TimelineEntry


@dataclass
class RootCauseRow:
    root_cause: str
    label: str
    owner: str  # the department that creates such problems ("" when none is set)
    count: int
    share: float  # of the period's resolved tickets, 0 to 1
    cumulative: float  # the Pareto line: this cause and all larger ones
    previous: int  # in the period before, of the same length
    change: int  # count - previous


def resolved_in(period: Period, condition: Q):
    """Tickets resolved (or closed) within the period, by when they were resolved. A ticket
    reopened and resolved again counts once, with the root cause it has now."""
    start, end = period.bounds()
    return Ticket.objects.filter(
        condition,
        status__in=Ticket.DONE_STATUSES,
        resolved_at__gte=start,
        resolved_at__lt=end,
    ).exclude(root_cause="")


def root_cause_owners() -> dict[str, str]:
    """Per root cause, the name of the department that creates such problems ("" for none):
    as edited in the admin, else the default."""
    names = dict(Department.objects.values_list("slug", "name"))
    owners = {cause: names.get(slug, "") for cause, slug in DEFAULT_OWNERS.items()}
    for owner in RootCauseOwner.objects.select_related("department"):
        owners[owner.root_cause] = owner.department.name if owner.department else ""
    return owners


def _counts(period: Period, condition: Q) -> dict[str, int]:
    rows = resolved_in(period, condition).values("root_cause").annotate(n=Count("id"))
    return {row["root_cause"]: row["n"] for row in rows}


def root_cause_pareto(period: Period, condition: Q) -> list[RootCauseRow]:
    """Resolved tickets by root cause, largest first, with each cause's share, the running
    share, and the change against the period before. Causes with none in either period are
    left out."""
    now, before = _counts(period, condition), _counts(period.previous(), condition)
    owners = root_cause_owners()
    labels = dict(Ticket.RootCause.choices)
    total = sum(now.values())
    causes = sorted(
        set(now) | set(before), key=lambda cause: (-now.get(cause, 0), labels.get(cause, cause))
    )
    rows, running = [], 0
    for cause in causes:
        count = now.get(cause, 0)
        running += count
        rows.append(
            RootCauseRow(
                root_cause=cause,
                label=labels.get(cause, cause),
                owner=owners.get(cause, ""),
                count=count,
                share=count / total if total else 0.0,
                cumulative=running / total if total else 0.0,
                previous=before.get(cause, 0),
                change=count - before.get(cause, 0),
            )
        )
    return rows


# --- time to fix ---------------------------------------------------------------------------------

GROUPS = {
    "kind": ("Kind", dict(Ticket.Kind.choices)),
    "product": ("Product", {}),
    "root_cause": ("Root cause", dict(Ticket.RootCause.choices)),
}
REOPEN_WINDOW_DAYS = 30
# The durations measured per ticket: to the first response, the first and the final resolution,
# each in working and in calendar hours.
SPANS = ("response", "response_calendar", "first", "first_calendar", "final", "final_calendar")


@dataclass
class Spread:
    """Median and 90th percentile of durations in hours (None without any)."""

    median: float | None
    p90: float | None

    @classmethod
    def of(cls, hours: list[float]) -> "Spread":
        if not hours:
            return cls(None, None)
        ordered = sorted(hours)
        # Nearest rank: the smallest value with at least 90% of them at or below it.
        rank = max(math.ceil(0.9 * len(ordered)), 1)
        return cls(round(statistics.median(ordered), 1), round(ordered[rank - 1], 1))


@dataclass
class FixRow:
    group: str
    tickets: int
    first_response: Spread  # working hours
    first_response_calendar: Spread
    first_resolution: Spread
    first_resolution_calendar: Spread
    final_resolution: Spread
    final_resolution_calendar: Spread
    reopened: int  # within REOPEN_WINDOW_DAYS of the first resolution

    @property
    def reopen_rate(self) -> float:
        return self.reopened / self.tickets if self.tickets else 0.0


def _first_resolutions(ticket_ids: list[int]) -> dict[int, tuple[datetime, datetime | None]]:
    """Per ticket, when it was first resolved, and when it was first reopened after that (from
    the timeline: a reopening clears the ticket's resolution, never its history)."""
    done = set(Ticket.DONE_STATUSES)
    found: dict[int, tuple[datetime, datetime | None]] = {}
    entries = (
        TimelineEntry.objects.filter(
            ticket_id__in=ticket_ids, kind=TimelineEntry.Kind.STATUS_CHANGE
        )
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "created_at", "changes")
    )
    for ticket_id, at, changes in entries.iterator():
        old, new = ((changes or {}).get("status") or [None, None])[:2]
        first = found.get(ticket_id)
        if first is None:
            if new in done and old not in done:
                found[ticket_id] = (at, None)
        elif first[1] is None and old in done and new not in done:
            found[ticket_id] = (first[0], at)
    return found


def time_to_fix(period: Period, condition: Q, *, group: str = "kind") -> list[FixRow]:
    """For the tickets finally resolved in the period, grouped: how long until the first
    response, the first resolution and the final one, in working hours (the company calendar)
    and calendar hours, and how many were reopened within 30 days of their first resolution.
    Two queries, whatever the number of groups."""
    field = group if group in GROUPS else "kind"
    labels = GROUPS[field][1]
    tickets = list(
        resolved_in(period, condition).values_list(
            "id", field, "created_at", "first_response_at", "resolved_at"
        )
    )
    firsts = _first_resolutions([row[0] for row in tickets])
    groups: dict[str, list] = {}
    for row in tickets:
        groups.setdefault(row[1] or "", []).append(row)
    rows = []
    for key in sorted(groups, key=lambda k: (-len(groups[k]), labels.get(k, k))):
        members = groups[key]
        spans: dict[str, list[float]] = {name: [] for name in SPANS}
        reopened = 0
        for ticket_id, _, created, responded, resolved in members:
            first, reopened_at = firsts.get(ticket_id, (resolved, None))
            for name, end in (("response", responded), ("first", first), ("final", resolved)):
                if end is not None and end >= created:
                    spans[name].append(working_hours_between(created, end))
                    spans[f"{name}_calendar"].append((end - created).total_seconds() / 3600)
            if reopened_at is not None and reopened_at - first <= timedelta(
                days=REOPEN_WINDOW_DAYS
            ):
                reopened += 1
        rows.append(
            FixRow(
                group=labels.get(key, key) or "(none)",
                tickets=len(members),
                first_response=Spread.of(spans["response"]),
                first_response_calendar=Spread.of(spans["response_calendar"]),
                first_resolution=Spread.of(spans["first"]),
                first_resolution_calendar=Spread.of(spans["first_calendar"]),
                final_resolution=Spread.of(spans["final"]),
                final_resolution_calendar=Spread.of(spans["final_calendar"]),
                reopened=reopened,
            )
        )
    return rows
