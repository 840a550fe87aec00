"""Aggregates PostgreSQL computes over raw rows, so a report reads one number per group rather
than every row: medians and percentiles (ordered-set aggregates), and the seconds between two
times. Where the database is not PostgreSQL (the embedded SQLite of a trial install) the
selectors compute the same figures in Python."""

from django.db import connections
from django.db.models import Aggregate, FloatField, Func


def in_database(queryset) -> bool:
    """Whether the database behind ``queryset`` has the ordered-set aggregates below."""
    return connections[queryset.db].vendor == "postgresql"


class Seconds(Func):
    """Seconds from ``start`` to ``end`` (two datetime expressions), as a float."""

    # date_part gives a double; EXTRACT gives a numeric since PostgreSQL 14, which sorts (for a
    # percentile) about twice as slowly.
    template = "DATE_PART('epoch', %(expressions)s)"
    arg_joiner = " - "
    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)


class _WithinGroup(Aggregate):
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile is a fraction from 0 to 1.")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


class Median(_WithinGroup):
    """The median, averaging the two middle values of an even count (as statistics.median)."""

    function = "percentile_cont"

    def __init__(self, expression, **extra):
        super().__init__(expression, 0.5, **extra)


class NearestRank(_WithinGroup):
    """The smallest value with at least ``fraction`` of the values at or below it."""

    function = "percentile_disc"
