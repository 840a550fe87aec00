"""Time to fix: how long until the first response, the first resolution and the final one."""

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from helpdesk.calendar import working_hours_between
from insights.filters import Period
from insights.selectors.root_causes import resolved_in
from tickets.models import Ticket, TimelineEntry

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
