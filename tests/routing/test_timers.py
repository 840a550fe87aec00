"""Time-based rules: checked by a periodic sweep, firing once per ticket and condition."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from helpdesk.calendar import working_days_between, working_hours_between
from queues.models import FollowUpTask, Notification
from routing.models import RuleMatch, TimedFiring
from routing.services import rule_create
from routing.timers import timers_sweep
from tests.conftest import dispatch_pending
from tickets.models import Ticket, TicketEvent
from tickets.services import note_add, ticket_create

pytestmark = pytest.mark.django_db

MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def time_rule(name, conditions, department="support"):
    return rule_create(
        name=name,
        trigger="time",
        conditions={"all": conditions},
        actions=[{"type": "notify_department", "department": department}],
    )


def ticket_at(customer, created, **extra):
    ticket = ticket_create(customer=customer, kind="call", channel="email", subject="Help", **extra)
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=created, updated_at=created, status_changed_at=created
    )
    return ticket


@pytest.fixture
def no_first_response():
    return time_rule(
        "No first response in 4 working hours",
        [
            {"field": "has_first_response", "operator": "is", "value": False},
            {"field": "working_hours_since_created", "operator": "gte", "value": 4},
        ],
    )


def test_no_first_response_fires_once(customer, no_first_response):
    ticket = ticket_at(customer, MONDAY_9)
    dispatch_pending()
    assert timers_sweep(now=MONDAY_9 + timedelta(hours=3)) == 0
    assert timers_sweep(now=MONDAY_9 + timedelta(hours=5)) == 1
    dispatch_pending()
    notification = Notification.objects.get()
    assert notification.ticket == ticket
    assert notification.event.type == "ticket.timer"
    match = RuleMatch.objects.get()
    assert match.rule == no_first_response
    # Later sweeps do not fire again for the same ticket.
    assert timers_sweep(now=MONDAY_9 + timedelta(hours=8)) == 0
    assert timers_sweep(now=MONDAY_9 + timedelta(days=3)) == 0
    dispatch_pending()
    assert Notification.objects.count() == 1
    assert TimedFiring.objects.count() == 1


def test_weekend_hours_do_not_count(customer, no_first_response):
    friday_4pm = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    ticket_at(customer, friday_4pm)
    assert timers_sweep(now=datetime(2026, 11, 23, 11, 0, tzinfo=UTC)) == 0  # 3 h: Fri 1 + Mon 2
    assert timers_sweep(now=datetime(2026, 11, 23, 12, 30, tzinfo=UTC)) == 1


def test_answered_ticket_does_not_fire(customer, no_first_response, rep):
    ticket = ticket_at(customer, MONDAY_9)
    note_add(ticket=ticket, author=rep, body="We are looking", is_internal=False)
    assert timers_sweep(now=timezone.now() + timedelta(days=5)) == 0


def test_pending_for_days(customer):
    time_rule(
        "Pending for 3 days",
        [
            {"field": "status", "operator": "is", "value": "pending"},
            {"field": "days_in_status", "operator": "gte", "value": 3},
        ],
    )
    ticket = ticket_at(customer, MONDAY_9)
    Ticket.objects.filter(pk=ticket.pk).update(status="pending")
    assert timers_sweep(now=MONDAY_9 + timedelta(days=2)) == 0
    assert timers_sweep(now=MONDAY_9 + timedelta(days=3, hours=1)) == 1
    assert timers_sweep(now=MONDAY_9 + timedelta(days=9)) == 0
    # Back to open and pending again: a new stay in the status, which fires once more.
    Ticket.objects.filter(pk=ticket.pk).update(
        status="pending", status_changed_at=MONDAY_9 + timedelta(days=10)
    )
    assert timers_sweep(now=MONDAY_9 + timedelta(days=11)) == 0
    assert timers_sweep(now=MONDAY_9 + timedelta(days=13, hours=1)) == 1
    assert timers_sweep(now=MONDAY_9 + timedelta(days=20)) == 0


def test_overdue_follow_up_of_a_resolved_ticket(customer, salesperson):
    time_rule("Follow-up overdue", [{"field": "followup_overdue", "operator": "is", "value": True}])
    ticket = ticket_at(customer, MONDAY_9)
    Ticket.objects.filter(pk=ticket.pk).update(status="resolved")
    event = TicketEvent.objects.get(ticket=ticket)
    FollowUpTask.objects.create(
        ticket=ticket,
        customer=customer,
        salesperson=salesperson,
        due_on=timezone.localdate() - timedelta(days=1),
        event=event,
    )
    assert timers_sweep() == 1
    assert timers_sweep() == 0
    # A second follow-up falls overdue later: the salesperson hears about that one too.
    FollowUpTask.objects.update(status=FollowUpTask.Status.DONE)
    FollowUpTask.objects.create(
        ticket=ticket,
        customer=customer,
        salesperson=salesperson,
        due_on=timezone.localdate() - timedelta(days=1),
        event=TicketEvent.objects.filter(ticket=ticket).last(),
    )
    assert timers_sweep() == 1
    assert timers_sweep() == 0


def test_time_rules_are_not_applied_to_ticket_events(customer, no_first_response):
    ticket_at(customer, MONDAY_9 - timedelta(days=30))
    dispatch_pending()
    assert not Notification.objects.exists()


def test_inactive_time_rule_never_fires(customer, no_first_response, rep):
    from routing.services import rule_update

    rule_update(rule=no_first_response, author=rep, is_active=False)
    ticket_at(customer, MONDAY_9)
    assert timers_sweep(now=MONDAY_9 + timedelta(days=1)) == 0


class TestCalendar:
    def test_working_hours_between(self, settings):
        settings.WORKING_HOURS = (9, 17)
        assert working_hours_between(MONDAY_9, MONDAY_9 + timedelta(hours=3)) == 3
        # Monday 9:00 to Tuesday 10:00: 8 + 1
        assert working_hours_between(MONDAY_9, MONDAY_9 + timedelta(days=1, hours=1)) == 9
        # Before opening and after closing count nothing.
        early = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)
        assert working_hours_between(early, MONDAY_9) == 0
        late = datetime(2026, 11, 16, 20, 0, tzinfo=UTC)
        assert working_hours_between(late, late + timedelta(hours=12)) == 0
        # Two full weeks: 10 working days of 8 hours.
        assert working_hours_between(MONDAY_9, MONDAY_9 + timedelta(days=14)) == 80

    def test_holidays_and_time_zone(self, settings):
        settings.HOLIDAYS = [date(2026, 11, 17)]
        assert working_hours_between(MONDAY_9, MONDAY_9 + timedelta(days=2)) == 8  # Tue is off
        settings.TIME_ZONE = "America/New_York"
        timezone.deactivate()
        # 09:00 UTC is 04:00 in New York: the working day there starts five hours later.
        assert working_hours_between(MONDAY_9, MONDAY_9 + timedelta(hours=6)) == 1

    def test_working_days_between_is_exact_over_long_spans(self, settings):
        settings.HOLIDAYS = [date(2026, 12, 25), date(2026, 12, 26)]  # a Friday and a Saturday
        first, last = date(2026, 1, 1), date(2026, 12, 31)
        slow = sum(
            1
            for n in range((last - first).days + 1)
            if (first + timedelta(days=n)).isoweekday() <= 5
            and first + timedelta(days=n) not in settings.HOLIDAYS
        )
        assert working_days_between(first, last) == slow == 260
