"""Working-day arithmetic on the company calendar from settings (weekdays and holidays)."""

from datetime import date, timedelta

from django.conf import settings


def is_working_day(day: date) -> bool:
    return day.isoweekday() in settings.WORKING_WEEKDAYS and day not in settings.HOLIDAYS


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself never counts)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current
