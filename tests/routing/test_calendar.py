from datetime import date

import pytest

from routing.calendar import add_working_days, is_working_day

FRIDAY = date(2026, 11, 20)


def test_weekend_is_skipped():
    assert add_working_days(FRIDAY, 1) == date(2026, 11, 23)  # Monday
    assert add_working_days(FRIDAY, 2) == date(2026, 11, 24)


def test_zero_days_is_the_same_day():
    assert add_working_days(FRIDAY, 0) == FRIDAY


def test_holidays_are_skipped(settings):
    settings.HOLIDAYS = [date(2026, 11, 23)]
    assert add_working_days(FRIDAY, 2) == date(2026, 11, 25)


def test_working_weekdays_come_from_settings(settings):
    settings.WORKING_WEEKDAYS = [1, 2, 3, 4, 5, 6]
    assert is_working_day(date(2026, 11, 21)) is True  # Saturday
    assert add_working_days(FRIDAY, 1) == date(2026, 11, 21)


@pytest.mark.parametrize("start", [date(2026, 11, 21), date(2026, 11, 22)])
def test_starting_on_a_weekend(start):
    assert add_working_days(start, 1) == date(2026, 11, 23)


def test_working_hours_are_counted_in_the_company_time_zone(settings):
    from datetime import UTC, datetime

    from routing.calendar import working_hours_between

    settings.TIME_ZONE = "Europe/Berlin"
    settings.WORKING_HOURS = (9, 17)
    # 08:30 to 17:30 in Berlin (UTC+1 in November): the whole 9-17 working day, 8 hours.
    start = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
    end = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    assert working_hours_between(start, end) == 8.0


def test_adding_working_hours_skips_nights_weekends_and_holidays(settings):
    from datetime import UTC, datetime

    from routing.calendar import add_working_hours

    settings.TIME_ZONE = "UTC"
    settings.WORKING_HOURS = (9, 17)
    friday_3pm = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert add_working_hours(friday_3pm, 1) == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert add_working_hours(friday_3pm, 4) == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert add_working_hours(saturday, 8) == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    settings.HOLIDAYS = [date(2026, 11, 23)]
    assert add_working_hours(friday_3pm, 4) == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    early = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)
    assert add_working_hours(early, 2) == datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


def test_adding_working_hours_across_a_daylight_saving_change(settings):
    from datetime import UTC, datetime

    from routing.calendar import add_working_hours

    settings.TIME_ZONE = "Europe/Berlin"
    settings.WORKING_HOURS = (0, 24)
    settings.WORKING_WEEKDAYS = [1, 2, 3, 4, 5, 6, 7]
    # Clocks go forward on Sunday 29 March 2026 at 02:00: that local day has 23 hours.
    start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert add_working_hours(start, 24) == datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert add_working_hours(start, 48) == datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
