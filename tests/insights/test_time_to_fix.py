"""Time to fix against figures worked out by hand: a ticket over a weekend (68 calendar hours
but 4 working hours), a reopened one (its first resolution kept), the 90th percentile by
nearest rank, and the reopen rate."""

import csv
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest

from tests.factories import CustomerFactory
from tickets.services import note_add, ticket_create, ticket_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("computed")]
BERLIN = ZoneInfo("Europe/Berlin")
MARCH = "period=custom&start=2026-03-01&end=2026-03-31"


def at(time_machine, day, hour):
    time_machine.move_to(datetime(2026, 3, day, hour, tzinfo=BERLIN), tick=False)


def _resolve(ticket, rep):
    return ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="product_defect", resolution="ok"
    )


@pytest.fixture
def tickets(settings, time_machine, rep):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.WORKING_HOURS = (9, 17)
    acme = CustomerFactory(name="Acme")
    # Monday 2 March: answered after an hour, fixed at 13:00.
    at(time_machine, 2, 9)
    a = ticket_create(customer=acme, kind="bug", channel="phone", subject="A")
    at(time_machine, 2, 10)
    note_add(ticket=a, author=rep, body="Looking at it", is_internal=False)
    at(time_machine, 2, 13)
    _resolve(a, rep)
    # Friday 15:00 to Monday 11:00: 2 + 2 working hours over a weekend.
    at(time_machine, 6, 15)
    b = ticket_create(customer=acme, kind="bug", channel="phone", subject="B")
    at(time_machine, 9, 11)
    _resolve(b, rep)
    # Fixed Tuesday 09:00, reopened at 12:00, fixed for good Wednesday 09:00.
    at(time_machine, 2, 9)
    c = ticket_create(customer=acme, kind="call", channel="phone", subject="C")
    at(time_machine, 3, 9)
    c = _resolve(c, rep)
    at(time_machine, 3, 12)
    c = ticket_update(ticket=c, actor=rep, status="open")
    at(time_machine, 4, 9)
    _resolve(c, rep)
    at(time_machine, 20, 12)


@pytest.fixture
def staff(client, rep):
    client.force_login(rep)
    return client


def test_time_to_fix_by_kind(staff, tickets):
    response = staff.get(f"/insights/time-to-fix/?{MARCH}&format=csv")
    assert response.status_code == 200
    header, *rows = list(csv.reader(StringIO(response.content.decode())))
    assert header[:4] == [
        "kind",
        "tickets",
        "first response median h (working)",
        "first response p90 h (working)",
    ]
    assert rows == [
        # response 1 h; first and final resolution 4 and 4 working hours, 4 and 68 calendar.
        ["Bug report", "2", "1.0", "1.0", "1.0", "1.0", "4.0", "4.0", "36.0", "68.0"]
        + ["4.0", "4.0", "36.0", "68.0", "0", "0.0"],
        # no response; first fix after 8 working hours (24 calendar), final after 16 (48).
        ["Call (question)", "1", "", "", "", "", "8.0", "8.0", "24.0", "24.0"]
        + ["16.0", "16.0", "48.0", "48.0", "1", "100.0"],
    ]


def test_time_to_fix_page_and_grouping(staff, tickets):
    page = staff.get(f"/insights/time-to-fix/?{MARCH}&group=root_cause").content.decode()
    assert "3 tickets resolved, 2026-03-01 to 2026-03-31" in page
    assert "Product defect" in page
    assert "1 (33%)" in page  # one of three reopened
    empty = staff.get("/insights/time-to-fix/?period=custom&start=2025-01-01&end=2025-01-31")
    assert b"No ticket was resolved in this period" in empty.content
    assert staff.get("/insights/time-to-fix/?kind=teapot").status_code == 400


def test_a_weekend_start_and_a_holiday_do_not_count(staff, settings, time_machine, rep):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.WORKING_HOURS = (9, 17)
    settings.HOLIDAYS = [date(2026, 3, 10)]  # a Tuesday
    acme = CustomerFactory(name="Acme")
    # Saturday 10:00 to Monday 11:00: only Monday's first two hours are working time.
    at(time_machine, 7, 10)
    weekend = ticket_create(customer=acme, kind="bug", channel="web", subject="W", product="W")
    at(time_machine, 9, 11)
    _resolve(weekend, rep)
    # Monday 16:00 to Wednesday 10:00 over a holiday: an hour on Monday, one on Wednesday.
    at(time_machine, 9, 16)
    holiday = ticket_create(customer=acme, kind="bug", channel="web", subject="H", product="H")
    at(time_machine, 11, 10)
    _resolve(holiday, rep)
    at(time_machine, 20, 12)
    response = staff.get(f"/insights/time-to-fix/?{MARCH}&group=product&format=csv")
    rows = {row[0]: row for row in list(csv.reader(StringIO(response.content.decode())))[1:]}
    # final resolution, working median and calendar median
    assert rows["H"][10:13] == ["2.0", "2.0", "42.0"]
    assert rows["W"][10:13] == ["2.0", "2.0", "49.0"]
