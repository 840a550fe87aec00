"""Working-time arithmetic on the company calendar from settings: working weekdays, working
hours and holidays, in the project's time zone."""

from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone


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


def working_days_between(first: date, last: date) -> int:
    """Working days from ``first`` to ``last`` inclusive, in constant time for long spans."""
    if last < first:
        return 0
    span = (last - first).days + 1
    weeks, rest = divmod(span, 7)
    count = weeks * len(set(settings.WORKING_WEEKDAYS))
    for offset in range(rest):
        if (first + timedelta(days=weeks * 7 + offset)).isoweekday() in settings.WORKING_WEEKDAYS:
            count += 1
    holidays = sorted(settings.HOLIDAYS)
    inside = holidays[bisect_left(holidays, first) : bisect_right(holidays, last)]
    return count - sum(1 for day in inside if day.isoweekday() in settings.WORKING_WEEKDAYS)


def _working_seconds_on(day: date, start: time, end: time) -> float:
    """Seconds of working time on ``day`` between two local times of that day."""
    if not is_working_day(day):
        return 0.0
    opens, closes = settings.WORKING_HOURS
    begin = max(start, time(opens))
    finish = min(end, time(closes) if closes < 24 else time.max)
    if finish <= begin:
        return 0.0
    return (datetime.combine(day, finish) - datetime.combine(day, begin)).total_seconds()


def working_hours_between(start: datetime, end: datetime) -> float:
    """Working hours elapsed from ``start`` to ``end`` (aware datetimes)."""
    if end <= start:
        return 0.0
    start, end = timezone.localtime(start), timezone.localtime(end)
    if start.date() == end.date():
        return _working_seconds_on(start.date(), start.time(), end.time()) / 3600
    opens, closes = settings.WORKING_HOURS
    seconds = _working_seconds_on(start.date(), start.time(), time.max)
    seconds += _working_seconds_on(end.date(), time.min, end.time())
    full_days = working_days_between(
        start.date() + timedelta(days=1), end.date() - timedelta(days=1)
    )
    seconds += full_days * (closes - opens) * 3600
    return seconds / 3600


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment ``hours`` working hours after ``start`` (aware; answered in local time).

    Time outside working hours does not count: 4 working hours from Friday 15:00 with a 9-17
    day is Monday 11:00. Elapsed time is measured in UTC, so a working window that spans a
    daylight-saving change counts the hours that really pass.
    """
    opens, closes = settings.WORKING_HOURS
    remaining = timedelta(hours=hours)
    current = timezone.localtime(start)
    tz = current.tzinfo
    for _ in range(3660):  # ten years of days: a bound, not a limit anyone reaches
        day = current.date()
        day_open = datetime.combine(day, time(opens), tz)
        day_close = (
            datetime.combine(day + timedelta(days=1), time(0), tz)
            if closes == 24
            else datetime.combine(day, time(closes), tz)
        )
        if is_working_day(day) and current < day_close:
            begin = max(current, day_open).astimezone(UTC)
            window = day_close.astimezone(UTC) - begin
            if remaining <= window:
                return timezone.localtime(begin + remaining)
            remaining -= window
        current = datetime.combine(day + timedelta(days=1), time(0), tz)
    raise ValueError("No working time in the next ten years: check WORKING_WEEKDAYS")
