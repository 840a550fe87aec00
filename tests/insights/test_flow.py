"""Backlog and flow against figures worked out by hand, over 1 to 5 March 2026 in Berlin:
two tickets already open when the period starts, a ticket created at 00:30 on the 3rd (still
the 2nd in UTC), a ticket resolved and then reopened (open again, its resolution gone), a
ticket created and resolved on the same day, days with nothing happening; then the queue
response against target, and calls. The daily counts are checked twice: counted from the
tickets, and read from the daily rollup refreshed after the fixture's last change."""

import csv
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Department
from insights.models import DailyFlow, Rollup
from insights.rollups import DAILY_FLOW, rollups_refresh
from queues.models import Notification
from tests.factories import CustomerFactory
from tickets.services import ticket_create, ticket_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("computed", "counted_from")]
BERLIN = ZoneInfo("Europe/Berlin")
PERIOD = "period=custom&start=2026-03-01&end=2026-03-05"


def local(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def at(time_machine, month, day, hour, minute=0):
    time_machine.move_to(local(month, day, hour, minute), tick=False)


@pytest.fixture
def staff(client, rep):
    client.force_login(rep)
    return client


def _csv(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(StringIO(response.content.decode())))


def _resolve(ticket, rep):
    return ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="other", resolution="done"
    )


@pytest.fixture
def tickets(settings, time_machine, rep):
    settings.TIME_ZONE = "Europe/Berlin"
    acme = CustomerFactory(name="Acme")
    made = {}

    def make(name, month, day, hour, minute=0, **fields):
        at(time_machine, month, day, hour, minute)
        fields.setdefault("kind", "bug")
        fields.setdefault("channel", "phone")
        made[name] = ticket_create(customer=acme, subject=name, created_by=rep, **fields)
        return made[name]

    make("A", 2, 27, 10)  # open before the period and still open
    b = make("B", 2, 28, 10)  # open at the start, resolved on the 2nd
    c = make("C", 2, 20, 10)  # resolved before the period: not in it at all
    at(time_machine, 2, 25, 10)
    _resolve(c, rep)
    at(time_machine, 3, 2, 10)
    _resolve(b, rep)
    # An RFE by email, resolved on the 3rd and reopened on the 4th: open to the end.
    e = make("E", 3, 2, 9, kind="rfe", channel="email")
    at(time_machine, 3, 3, 12)
    e = _resolve(e, rep)
    at(time_machine, 3, 4, 9)
    ticket_update(ticket=e, actor=rep, status="open")
    # 00:30 on the 3rd in Berlin is 23:30 on the 2nd in UTC: the 3rd here.
    make("D", 3, 3, 0, 30, kind="call", call_duration_seconds=300)
    f = make("F", 3, 4, 10, kind="call", call_duration_seconds=600)
    at(time_machine, 3, 4, 15)
    _resolve(f, rep)
    make("G", 3, 6, 10)  # after the period
    at(time_machine, 3, 20, 12)
    return made


@pytest.fixture(params=["the tickets", "the rollup"])
def counted_from(request, tickets):
    """The same figures with the daily rollup refreshed after the fixture's last change (so it
    holds every day before 20 March) and without it (every day counted from the tickets)."""
    if request.param == "the rollup":
        rollups_refresh()
    return request.param


def test_created_resolved_and_open_by_day(staff, tickets):
    header, *rows = _csv(staff.get(f"/insights/flow/?{PERIOD}&format=csv"))
    assert header == ["day", "all tickets", "created", "resolved", "open at end of day"]
    assert rows == [
        ["2026-03-01", "All tickets", "0", "0", "2"],
        ["2026-03-02", "All tickets", "1", "1", "2"],
        ["2026-03-03", "All tickets", "1", "0", "3"],
        ["2026-03-04", "All tickets", "1", "1", "3"],
        ["2026-03-05", "All tickets", "0", "0", "3"],
    ]


def test_split_by_kind_zero_fills_every_day_of_every_kind(staff, tickets):
    _, *rows = _csv(staff.get(f"/insights/flow/?{PERIOD}&group=kind&format=csv"))
    by_kind: dict[str, list] = {}
    for day, kind, *figures in rows:
        by_kind.setdefault(kind, []).append([day, *figures])
    assert list(by_kind) == ["Call (question)", "Bug report", "Request for enhancement"]
    assert by_kind["Call (question)"] == [
        ["2026-03-01", "0", "0", "0"],
        ["2026-03-02", "0", "0", "0"],
        ["2026-03-03", "1", "0", "1"],
        ["2026-03-04", "1", "1", "1"],
        ["2026-03-05", "0", "0", "1"],
    ]
    assert [row[1:] for row in by_kind["Bug report"]] == [
        ["0", "0", "2"],
        ["0", "1", "1"],
        ["0", "0", "1"],
        ["0", "0", "1"],
        ["0", "0", "1"],
    ]
    assert [row[3] for row in by_kind["Request for enhancement"]] == ["0", "1", "1", "1", "1"]


def test_split_by_channel_and_a_channel_filter(staff, tickets):
    _, *rows = _csv(staff.get(f"/insights/flow/?{PERIOD}&group=channel&format=csv"))
    assert sorted({row[1] for row in rows}) == ["Email", "Phone"]
    _, *emails = _csv(staff.get(f"/insights/flow/?{PERIOD}&channel=email&format=csv"))
    assert [row[2:] for row in emails] == [
        ["0", "0", "0"],
        ["1", "0", "1"],
        ["0", "0", "1"],
        ["0", "0", "1"],
        ["0", "0", "1"],
    ]


def test_an_empty_period_is_all_zeros_and_the_page_says_so(staff, tickets):
    _, *rows = _csv(
        staff.get("/insights/flow/?period=custom&start=2025-01-01&end=2025-01-03&format=csv")
    )
    assert rows == [
        ["2025-01-01", "All tickets", "0", "0", "0"],
        ["2025-01-02", "All tickets", "0", "0", "0"],
        ["2025-01-03", "All tickets", "0", "0", "0"],
    ]
    page = staff.get("/insights/flow/?period=custom&start=2025-01-01&end=2025-01-03")
    assert "No queue item arrived in this period" in page.content.decode()


def test_the_page_draws_a_bar_per_day_beside_its_table(staff, tickets):
    page = staff.get(f"/insights/flow/?{PERIOD}").content.decode()
    assert page.count('<rect class="created"') == 5
    assert page.count('<rect class="resolved"') == 5
    assert "<title>2026-03-03: 1 created</title>" in page
    assert "Open at the end: <strong>3</strong>" in page


def _item(ticket, department, arrived, due, acted=None):
    item = Notification.objects.create(
        department=department, ticket=ticket, event=ticket.events.first()
    )
    Notification.objects.filter(pk=item.pk).update(created_at=arrived, due_at=due, acted_at=acted)


def test_department_response_against_target(staff, tickets):
    engineering = Department.objects.get(slug="engineering")
    finance = Department.objects.get(slug="finance")
    a, b = tickets["A"], tickets["B"]
    _item(a, engineering, local(3, 2, 9), local(3, 2, 17), local(3, 2, 11))  # 2 h, in time
    _item(b, engineering, local(3, 2, 10), local(3, 3, 10), local(3, 3, 12))  # 26 h, late
    _item(a, engineering, local(3, 4, 10), local(3, 4, 18))  # still waiting, past due
    _item(b, finance, local(3, 3, 9), local(3, 25, 9))  # waiting, not due yet
    _item(a, engineering, local(2, 27, 9), local(2, 27, 17))  # before the period
    header, *rows = _csv(staff.get(f"/insights/flow/?{PERIOD}&format=csv&table=response"))
    assert header[0] == "department"
    target = str(engineering.response_target_hours)
    assert rows == [
        ["Engineering", target, "3", "2", "14.0", "26.0", "2", "66.7"],
        ["Finance", str(finance.response_target_hours), "1", "0", "", "", "0", "0.0"],
    ]
    _, *only = _csv(
        staff.get(f"/insights/flow/?{PERIOD}&department=finance&format=csv&table=response")
    )
    assert [row[0] for row in only] == ["Finance"]


def test_calls_are_information_only(staff, tickets):
    page = staff.get(f"/insights/flow/?{PERIOD}").content.decode()
    assert "2 calls logged, 15.0 minutes in all, 7.5 minutes for the median call." in page
    assert "never compared rep by rep" in page


def test_a_filter_that_cannot_be_read_is_refused(staff, tickets):
    assert staff.get("/insights/flow/?period=custom&start=2026-03-05").status_code == 400
    assert staff.get("/insights/flow/?kind=nonsense").status_code == 400


def test_queries_do_not_grow_with_the_data(staff, tickets, time_machine, rep):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert staff.get(f"/insights/flow/?{PERIOD}&group=kind").status_code == 200
        return len(captured)

    engineering = Department.objects.get(slug="engineering")
    before = queries()
    acme = tickets["A"].customer
    for hour in range(10):
        at(time_machine, 3, 1 + hour % 5, 8)
        ticket = ticket_create(customer=acme, kind="rma", channel="web", subject=f"more {hour}")
        start = local(3, 1 + hour % 5, 8)
        _item(ticket, engineering, start, start + timedelta(hours=8), start + timedelta(hours=1))
    at(time_machine, 3, 20, 12)
    assert queries() == before


# --- the daily rollup -------------------------------------------------------------------------


def _all_tickets(client, query=""):
    _, *rows = _csv(client.get(f"/insights/flow/?{PERIOD}{query}&format=csv"))
    return [row[2:] for row in rows]


EXPECTED = [["0", "0", "2"], ["1", "1", "2"], ["1", "0", "3"], ["1", "1", "3"], ["0", "0", "3"]]


@pytest.mark.parametrize("counted_from", ["the tickets"], indirect=True)
def test_the_rollup_holds_the_days_before_its_refresh_and_later_days_are_counted_live(
    staff, tickets, time_machine
):
    # Refreshed in the middle of the period: the 1st to the 3rd from the rollup, the 4th on
    # from the tickets. The figures are the same.
    at(time_machine, 3, 4, 10)
    rollups_refresh()
    state = Rollup.objects.get(name=DAILY_FLOW)
    assert str(state.complete_before) == "2026-03-04"
    assert state.time_zone == "Europe/Berlin"
    assert not DailyFlow.objects.filter(day__gte=state.complete_before).exists()
    at(time_machine, 3, 20, 12)
    assert _all_tickets(staff) == EXPECTED
    # Refreshed before the period starts: the days between come from the tickets too.
    at(time_machine, 2, 26, 10)
    rollups_refresh()
    at(time_machine, 3, 20, 12)
    assert _all_tickets(staff) == EXPECTED
    assert _all_tickets(staff, "&kind=call") == [
        ["0", "0", "0"],
        ["0", "0", "0"],
        ["1", "0", "1"],
        ["1", "1", "1"],
        ["0", "0", "1"],
    ]


@pytest.mark.parametrize("counted_from", ["the rollup"], indirect=True)
def test_the_report_reads_the_rollup_when_its_filters_allow_and_the_tickets_otherwise(
    staff, tickets, time_machine, rep
):
    # A ticket written on the 2nd after the refresh (as an import would): the rollup does not
    # know it until it is refreshed again, so the report without filters still shows the
    # refreshed counts; with a product filter (which the rollup cannot answer) the report
    # counts from the tickets and shows it.
    at(time_machine, 3, 2, 11)
    ticket_create(customer=tickets["A"].customer, subject="late", kind="bug", channel="phone")
    at(time_machine, 3, 20, 12)
    assert _all_tickets(staff) == EXPECTED
    assert _all_tickets(staff, "&customer=Acme")[1] == ["2", "1", "3"]
    rollups_refresh()
    assert _all_tickets(staff)[1] == ["2", "1", "3"]
    # A ticket created today shows at once: today is never in the rollup.
    ticket_create(customer=tickets["A"].customer, subject="today", kind="bug", channel="phone")
    _, *today = _csv(
        staff.get("/insights/flow/?period=custom&start=2026-03-20&end=2026-03-20&format=csv")
    )
    assert today == [["2026-03-20", "All tickets", "1", "0", "6"]]  # A, D, E, G, late, today


@pytest.mark.parametrize("counted_from", ["the rollup"], indirect=True)
def test_a_rollup_counted_in_another_time_zone_is_not_used(staff, tickets, settings):
    # Counted in Berlin; read in New York, the days fall elsewhere, so the tickets are counted.
    settings.TIME_ZONE = "America/New_York"
    _, *rows = _csv(staff.get(f"/insights/flow/?{PERIOD}&format=csv"))
    # 00:30 on 3 March in Berlin is 18:30 on the 2nd in New York.
    assert [row[2] for row in rows] == ["0", "2", "0", "1", "0"]


@pytest.mark.parametrize("counted_from", ["the tickets"], indirect=True)
def test_a_refresh_replaces_the_whole_rollup_and_running_it_twice_changes_nothing(tickets):
    first = rollups_refresh()
    rows = sorted(DailyFlow.objects.values_list("day", "kind", "channel", "created", "resolved"))
    assert rollups_refresh() == first
    again = sorted(DailyFlow.objects.values_list("day", "kind", "channel", "created", "resolved"))
    assert again == rows
    # Created on 27 Feb (A), 28 Feb (B), 20 Feb (C), 2 Mar (E), 3 Mar (D), 4 Mar (F), 6 Mar (G);
    # finally resolved: C on 25 Feb, B on 2 Mar, F on 4 Mar (E was reopened).
    assert sum(row[3] for row in rows) == 7
    assert sum(row[4] for row in rows) == 3


@pytest.mark.parametrize("counted_from", ["the rollup"], indirect=True)
def test_admins_see_how_far_the_rollup_reaches_and_cannot_edit_it(admin_client, tickets):
    page = admin_client.get("/admin/insights/rollup/")
    assert page.status_code == 200
    assert "daily_flow" in page.content.decode()
    assert "Europe/Berlin" in page.content.decode()
    assert admin_client.get("/admin/insights/rollup/add/").status_code == 403


@pytest.mark.parametrize("counted_from", ["the tickets"], indirect=True)
def test_a_channel_long_done_is_no_series_either_way(staff, tickets, time_machine, rep):
    # A web request of January, resolved in January: nothing of it is open or happens in March.
    at(time_machine, 1, 10, 10)
    old = ticket_create(customer=tickets["A"].customer, subject="old", kind="call", channel="web")
    at(time_machine, 1, 12, 10)
    _resolve(old, rep)
    at(time_machine, 3, 20, 12)
    live = _csv(staff.get(f"/insights/flow/?{PERIOD}&group=channel&format=csv"))
    rollups_refresh()
    stored = _csv(staff.get(f"/insights/flow/?{PERIOD}&group=channel&format=csv"))
    assert stored == live
    assert sorted({row[1] for row in stored[1:]}) == ["Email", "Phone"]
