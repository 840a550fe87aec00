"""Working hours between two moments, computed by PostgreSQL for every row of a report at once,
on the same company calendar as ``helpdesk.calendar.working_hours_between`` (working weekdays,
working hours, holidays, local wall-clock time in the company's zone).

The trick is a working clock: for each local day of the span a report covers, the working
seconds of all the days before it (a running sum over ``generate_series``, a few thousand rows
at most). A moment's clock reading is its day's reading plus the working seconds elapsed that
day; the working time between two moments is the difference of their readings. Each row then
costs a join to that small table, not a loop over its days."""

import re

from django.conf import settings
from django.utils import timezone


def calendar_params() -> dict:
    """The calendar as SQL parameters: the zone, the working day's seconds and its opening in
    seconds after midnight, the working ISO weekdays and the holidays that fall on them."""
    opens, closes = settings.WORKING_HOURS
    weekdays = sorted(set(settings.WORKING_WEEKDAYS))
    holidays = sorted(day for day in settings.HOLIDAYS if day.isoweekday() in weekdays)
    return {
        "zone": timezone.get_current_timezone_name(),
        "opens": opens * 3600,
        "span": (closes - opens) * 3600,
        "weekdays": weekdays,
        "holidays": holidays,
    }


def calendar_cte(first_day_sql: str, last_day_sql: str) -> str:
    """A CTE named ``working_clock(day, working, before)`` covering the local days from
    ``first_day_sql`` to ``last_day_sql`` (SQL expressions giving dates); ``before`` is the
    working seconds of all the days before ``day`` in the span. Named parameters: those of
    ``calendar_params``; the two day expressions are the caller's SQL, never user input."""
    return f"""
    working_days AS (
        SELECT day::date AS day,
               (extract(isodow FROM day)::int = ANY(%(weekdays)s)
                AND NOT day::date = ANY(%(holidays)s::date[])) AS working
        FROM generate_series(({first_day_sql}), ({last_day_sql}), interval '1 day') AS day
    ),
    working_clock AS MATERIALIZED (
        SELECT day, working,
               %(span)s * (count(*) FILTER (WHERE working) OVER (ORDER BY day)
                           - CASE WHEN working THEN 1 ELSE 0 END) AS before
        FROM working_days
    )"""  # noqa: S608


def clock_sql(local_sql: str, alias: str) -> str:
    """The working clock's reading at a local timestamp ``local_sql``, where ``alias`` is the
    ``working_clock`` row joined on its day."""
    return (
        f"({alias}.before + CASE WHEN {alias}.working THEN LEAST(GREATEST("
        f"date_part('epoch', ({local_sql})::time) - %(opens)s, 0), %(span)s) ELSE 0 END)"
    )


_NAMED = re.compile(r"%\((\w+)\)s")


def positional(sql: str, named: dict) -> tuple[str, list]:
    """``sql`` with its ``%(name)s`` parameters made positional (``%s``, in order), so that it
    can be joined with SQL the ORM compiled, whose parameters are positional."""
    values: list = []

    def take(match: re.Match) -> str:
        values.append(named[match.group(1)])
        return "%s"

    return _NAMED.sub(take, sql), values
