from datetime import date

import pytest

from helpdesk.calendar import add_working_days, is_working_day

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

    from helpdesk.calendar import working_hours_between

    settings.TIME_ZONE = "Europe/Berlin"
    settings.WORKING_HOURS = (9, 17)
    # 08:30 to 17:30 in Berlin (UTC+1 in November): the whole 9-17 working day, 8 hours.
    start = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
    end = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    assert working_hours_between(start, end) == 8.0


def test_adding_working_hours_skips_nights_weekends_and_holidays(settings):
    from datetime import UTC, datetime

    from helpdesk.calendar import add_working_hours

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

    from helpdesk.calendar import add_working_hours

    settings.TIME_ZONE = "Europe/Berlin"
    settings.WORKING_HOURS = (0, 24)
    settings.WORKING_WEEKDAYS = [1, 2, 3, 4, 5, 6, 7]
    # Clocks go forward on Sunday 29 March 2026 at 02:00: that local day has 23 hours.
    start = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert add_working_hours(start, 24) == datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    assert add_working_hours(start, 48) == datetime(2026, 3, 30, 12, 0, tzinfo=UTC)


# --- a follow-up "in N working days", with the clock fixed where calendar days would differ ----


@pytest.fixture
def thursday_before_a_long_weekend(settings, monkeypatch):
    """The clock stopped on Thursday 26 November 2026, 10:00 UTC; Friday 27 is a holiday."""
    from datetime import UTC, datetime

    from django.utils import timezone

    settings.TIME_ZONE = "UTC"
    settings.HOLIDAYS = [date(2026, 11, 27)]
    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("days", "due"),
    [
        (0, date(2026, 11, 26)),  # today
        (1, date(2026, 11, 30)),  # not Friday (a holiday) nor the weekend: Monday
        (2, date(2026, 12, 1)),  # calendar days would say Saturday
        (5, date(2026, 12, 4)),
    ],
)
def test_a_follow_up_in_n_working_days_skips_the_holiday_and_the_weekend(
    thursday_before_a_long_weekend, customer, days, due
):
    from queues.models import FollowUpTask
    from routing.services import rule_create
    from tests.conftest import dispatch_pending
    from tickets.services import ticket_create

    rule_create(
        name="Follow up",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "create_followup", "due_in_working_days": days}],
    )
    ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
    dispatch_pending()
    assert FollowUpTask.objects.get().due_on == due


@pytest.mark.django_db
def test_no_answer_tries_again_on_the_next_working_day(
    thursday_before_a_long_weekend, customer, salesperson
):
    from queues.followups import followup_record_outcome
    from queues.models import FollowUpTask
    from routing.services import rule_create
    from tests.conftest import dispatch_pending
    from tickets.services import ticket_create

    rule_create(
        name="Follow up",
        trigger="ticket.created",
        conditions={},
        actions=[{"type": "create_followup", "due_in_working_days": 0}],
    )
    ticket_create(customer=customer, kind="bug", channel="phone", subject="Crash")
    dispatch_pending()
    task = followup_record_outcome(
        task=FollowUpTask.objects.get(), user=salesperson, outcome="no_answer"
    )
    assert task.due_on == date(2026, 11, 30)  # Monday: Friday is a holiday
