"""Time to fix: how long until the first response, the first resolution and the final one."""

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone

from helpdesk.calendar import working_hours_between
from insights.aggregates import in_database
from insights.filters import Period
from insights.selectors.root_causes import resolved_in
from insights.working_time import calendar_cte, calendar_params, clock_sql, positional
from tickets.models import Ticket

GROUPS = {
    "kind": ("Kind", dict(Ticket.Kind.choices)),
    "product": ("Product", {}),
    "root_cause": ("Root cause", dict(Ticket.RootCause.choices)),
}
REOPEN_WINDOW_DAYS = 30
TICKETS = Ticket._meta.db_table
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


def time_to_fix(period: Period, condition: Q, *, group: str = "kind") -> list[FixRow]:
    """For the tickets finally resolved in the period, grouped: how long until the first
    response, the first resolution (kept on the ticket through a reopening) and the final one,
    in working hours (the company calendar) and calendar hours, and how many were reopened
    within 30 days of their first resolution. One query: PostgreSQL computes the working hours
    and the percentiles from the rows (insights.working_time); elsewhere, they are computed
    here."""
    field = group if group in GROUPS else "kind"
    labels = GROUPS[field][1]
    tickets = (
        resolved_in(period, condition)
        .order_by()
        .values_list(
            "id",
            field,
            "created_at",
            "first_response_at",
            "first_resolved_at",
            "resolved_at",
            "first_reopened_at",
        )
    )
    found = _in_database(tickets) if in_database(tickets) else _in_python(tickets)
    order = sorted(found, key=lambda key: (-found[key][0], labels.get(key, key)))
    return [
        FixRow(
            group=labels.get(key, key) or "(none)",
            tickets=found[key][0],
            first_response=found[key][1]["response"],
            first_response_calendar=found[key][1]["response_calendar"],
            first_resolution=found[key][1]["first"],
            first_resolution_calendar=found[key][1]["first_calendar"],
            final_resolution=found[key][1]["final"],
            final_resolution_calendar=found[key][1]["final_calendar"],
            reopened=found[key][2],
        )
        for key in order
    ]


Found = dict[str, tuple[int, dict[str, Spread], int]]  # group: (tickets, spreads, reopened)


def _reopened_soon(first: datetime | None, reopened: datetime | None) -> bool:
    return (
        first is not None
        and reopened is not None
        and reopened - first <= timedelta(days=REOPEN_WINDOW_DAYS)
    )


def _in_python(tickets) -> Found:
    groups: dict[str, list] = {}
    for row in tickets:
        groups.setdefault(row[1] or "", []).append(row)
    found: Found = {}
    for key, members in groups.items():
        hours: dict[str, list[float]] = {name: [] for name in SPANS}
        reopened = 0
        for _, _, created, responded, first_fixed, resolved, reopened_at in members:
            first = first_fixed or resolved
            for name, end in (("response", responded), ("first", first), ("final", resolved)):
                if end is not None and end >= created:
                    hours[name].append(working_hours_between(created, end))
                    hours[f"{name}_calendar"].append((end - created).total_seconds() / 3600)
            reopened += _reopened_soon(first, reopened_at)
        found[key] = (len(members), {name: Spread.of(hours[name]) for name in SPANS}, reopened)
    return found


def _in_database(tickets) -> Found:
    rows_sql, rows_params = tickets.query.sql_with_params()
    spans = {"response": "responded", "first": "first_fixed", "final": "resolved"}
    measures = []
    for name, column in spans.items():
        late_enough = f"t.{column} >= t.created"
        working = f"({clock_sql('t.' + column + '_local', 'k_' + name)} - "
        working += f"{clock_sql('t.created_local', 'k_created')}) / 3600.0"
        calendar = f"date_part('epoch', t.{column} - t.created) / 3600.0"
        measures += [
            f"CASE WHEN {late_enough} THEN {working} END AS {name}",
            f"CASE WHEN {late_enough} THEN {calendar} END AS {name}_calendar",
        ]
    joins = "\n".join(
        f"LEFT JOIN working_clock k_{name} ON k_{name}.day = t.{column}_local::date"
        for name, column in {"created": "created", **spans}.items()
    )
    aggregates = ", ".join(
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {name}), "
        f"percentile_disc(0.9) WITHIN GROUP (ORDER BY {name})"
        for name in SPANS
    )
    # Built from constants and the ORM's own SQL; every value is a parameter.
    named, named_params = positional(
        f"""
        , fixed AS (
            SELECT id, grp, created, responded, first_fixed, resolved, reopened,
                   created AT TIME ZONE %(zone)s AS created_local,
                   responded AT TIME ZONE %(zone)s AS responded_local,
                   CASE WHEN first_fixed = resolved THEN resolved_local
                        ELSE first_fixed AT TIME ZONE %(zone)s END AS first_fixed_local,
                   resolved_local
            FROM (SELECT id, grp, created, responded, COALESCE(first_fixed, resolved)
                         AS first_fixed, resolved, reopened,
                         resolved AT TIME ZONE %(zone)s AS resolved_local FROM raw) AS kept
            OFFSET 0
        ), {
            calendar_cte(
                f"SELECT ((SELECT min(created_at) FROM {TICKETS}) AT TIME ZONE %(zone)s)::date",
                "SELECT %(today)s::date",
            ).strip()
        }
        SELECT grp, count(*), {aggregates},
               count(*) FILTER (WHERE reopened IS NOT NULL
                                AND reopened - first_fixed <= %(window)s * interval '1 day')
        FROM (
            SELECT t.grp, t.reopened, t.first_fixed, {", ".join(measures)}
            FROM fixed t
            {joins}
        ) AS spans
        GROUP BY grp
        """,  # noqa: S608
        {**calendar_params(), "window": REOPEN_WINDOW_DAYS, "today": timezone.localdate()},
    )
    # The local times are computed once per row, in "fixed" (OFFSET 0 keeps the planner from
    # copying its expressions into every use), and the first resolution's only when it differs
    # from the final one (a reopened ticket): AT TIME ZONE is the largest part of a row's cost.
    # The calendar spans every day a ticket can have (from the first ticket to today), so the
    # rows stream through once instead of being stored to find their first and last days.
    prefix = "WITH raw (id, grp, created, responded, first_fixed, resolved, reopened) AS ({})"
    sql = prefix.format(rows_sql) + named
    found: Found = {}
    with transaction.atomic(using=tickets.db), connections[tickets.db].cursor() as cursor:
        # Each moment is joined to the calendar, a CTE the planner has no statistics for: it
        # then sorted the rows for a merge join per moment, four sorts of every row (70 ms of
        # 450 at 90 days of a million tickets). Hash joins, for this statement only.
        cursor.execute("SELECT current_setting('enable_mergejoin')")
        (merge_join,) = cursor.fetchone()
        cursor.execute("SELECT set_config('enable_mergejoin', 'off', true)")
        cursor.execute(sql, [*rows_params, *named_params])
        rows = cursor.fetchall()
        cursor.execute("SELECT set_config('enable_mergejoin', %s, true)", [merge_join])
        for key, count, *figures in rows:
            *percentiles, reopened = figures
            spreads = {
                name: Spread(_round(percentiles[2 * i]), _round(percentiles[2 * i + 1]))
                for i, name in enumerate(SPANS)
            }
            found[key or ""] = (count, spreads, reopened)
    return found


def _round(value) -> float | None:
    return None if value is None else round(float(value), 1)
