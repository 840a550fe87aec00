"""The sales and satisfaction report against figures worked out by hand on a small fixed data
set, built through the services (rules make the follow-ups, salespeople record outcomes,
customers answer): follow-ups done on time, late (by the company's date, not UTC's), overdue
and not yet due, for two salespeople; up-sell sums; NPS of 5 promoters, 3 passives and 2
detractors (+30 ± 48); detractors followed up in 1 working day over a weekend and after 3;
answers at 23:30 and 00:30 in Berlin around the period's end; an empty period; the CSVs, bad
filters and the number of queries.

March 2026 starts on a Sunday: the 6th, 13th, 20th and 27th are Fridays. "Today" is Wednesday
April 1st, 10:00 in Berlin."""

import csv
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from insights.filters import Period
from insights.selectors.sales import deadlines, detractor_followups
from queues.followups import followup_record_outcome
from queues.models import FollowUpTask
from surveys.models import Survey
from surveys.selectors import survey_followups
from surveys.services import survey_answer, surveys_send_due
from tests.conftest import dispatch_pending
from tests.factories import ContactFactory, CustomerFactory, UserFactory
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MARCH = "period=custom&start=2026-03-01&end=2026-03-31"
EMPTY = "period=custom&start=2025-01-01&end=2025-01-31"
FOLLOWUPS_HEADER = [
    "salesperson",
    "created",
    "done on time",
    "done late",
    "open, overdue",
    "open, not yet due",
    "cancelled",
    "reached and satisfied",
    "reached and not satisfied",
    "up-sell opportunity",
    "calls without answer",
    "up-sell value",
]
NPS_HEADER = [
    "by",
    "group",
    "answers",
    "promoters",
    "passives",
    "detractors",
    "NPS",
    "margin ±",
    "note",
]
TOO_FEW = "fewer than 10 answers: too few to read"


def berlin(month, day, hour, minute=0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(StringIO(response.content.decode())))


@pytest.fixture
def calendar(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.WORKING_WEEKDAYS = [1, 2, 3, 4, 5]
    settings.WORKING_HOURS = (9, 17)
    settings.HOLIDAYS = []


@pytest.fixture
def staff(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def avery(db):
    return UserFactory(username="avery", first_name="Avery", last_name="Adams")


@pytest.fixture
def sam(salesperson):
    salesperson.first_name, salesperson.last_name = "Sam", "Seller"
    salesperson.save()
    return salesperson


class Clock:
    """Moves the frozen clock to a moment in Berlin; what is done then is stamped with it."""

    def __init__(self, time_machine):
        self.time_machine = time_machine

    def __call__(self, when: datetime) -> None:
        self.time_machine.move_to(when, tick=False)


@pytest.fixture
def clock(time_machine, calendar):
    return Clock(time_machine)


def _bug_followup(clock, rep, customer, when, product) -> FollowUpTask:
    """A bug resolved at ``when``: the starter rule gives the salesperson a follow-up due two
    working days later."""
    clock(when)
    ticket = ticket_create(
        customer=customer, kind="bug", channel="phone", subject="Crash", product=product
    )
    ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="product_defect", resolution="Fix"
    )
    dispatch_pending()
    return FollowUpTask.objects.get(ticket=ticket)


def _outcome(clock, task, when, outcome, **fields) -> FollowUpTask:
    clock(when)
    task.refresh_from_db()
    notes = {"not_satisfied": "Still crashes", "upsell": "Wants the premium plan"}
    return followup_record_outcome(
        task=task, user=task.salesperson, outcome=outcome, notes=notes.get(outcome, ""), **fields
    )


@pytest.fixture
def followups(clock, rep, starter_rules, customer, sam, avery):
    """Sam (Plain Co) and Avery (Zeta GmbH), with these follow-ups (due two working days after
    the bug was resolved):

    - created in February, done: not March's.
    - Sam 1: Mon 2nd, due Wed 4th, done that day at 16:00 (satisfied): on time.
    - Sam 2: Thu 5th, due Mon 9th, done Tue 10th 00:30 in Berlin (Mon 23:30 UTC), an up-sell of
      1,200.50: late, by the company's date.
    - Sam 3: Mon 16th, due Wed 18th, open: overdue today.
    - Sam 4: Tue 31st 23:30 (March's, though 21:30 UTC), due Thu April 2nd; a call without an
      answer today moves it to Thursday: not yet due.
    - Avery 1: Fri 6th 15:00, due Tue 10th, done Mon 9th (an up-sell of 300): on time.
    - Avery 2: Wed 11th, due Fri 13th; no answer that Friday moves it to Mon 16th, done then
      (not satisfied): on time, for the day it was due then.
    - Avery 3: Mon 30th, due today, open: not yet due (overdue from tomorrow).
    - Avery 4: Wed April 1st 00:30 in Berlin (still March 31st in UTC): not March's.
    """
    zeta = CustomerFactory(name="Zeta GmbH", salesperson=avery)
    february = _bug_followup(clock, rep, customer, datetime(2026, 2, 27, 10, tzinfo=BERLIN), "X")
    _outcome(clock, february, berlin(3, 3, 10), "satisfied")
    sam1 = _bug_followup(clock, rep, customer, berlin(3, 2, 10), "Reports")
    _outcome(clock, sam1, berlin(3, 4, 16), "satisfied")
    sam2 = _bug_followup(clock, rep, customer, berlin(3, 5, 10), "Reports")
    _outcome(clock, sam2, berlin(3, 10, 0, 30), "upsell", upsell_value=Decimal("1200.50"))
    _bug_followup(clock, rep, customer, berlin(3, 16, 10), "Billing")
    sam4 = _bug_followup(clock, rep, customer, berlin(3, 31, 23, 30), "Billing")
    avery1 = _bug_followup(clock, rep, zeta, berlin(3, 6, 15), "Billing")
    _outcome(clock, avery1, berlin(3, 9, 11), "upsell", upsell_value=Decimal("300"))
    avery2 = _bug_followup(clock, rep, zeta, berlin(3, 11, 10), "Billing")
    _outcome(clock, avery2, berlin(3, 13, 10), "no_answer")
    _outcome(clock, avery2, berlin(3, 16, 15), "not_satisfied")
    avery3 = _bug_followup(clock, rep, zeta, berlin(3, 30, 10), "Billing")
    _bug_followup(clock, rep, zeta, berlin(4, 1, 0, 30), "Billing")
    _outcome(clock, sam4, berlin(4, 1, 9, 30), "no_answer")
    clock(berlin(4, 1, 10))
    dispatch_pending()  # the reopening's event
    return {"sam": [sam1, sam2, sam4], "avery": [avery1, avery2, avery3]}


def test_follow_ups_per_salesperson_by_name(staff, followups):
    sam1, sam2, sam4 = followups["sam"]
    assert (sam1.due_on, sam2.due_on) == (date(2026, 3, 4), date(2026, 3, 9))
    assert FollowUpTask.objects.get(pk=sam4.pk).due_on == date(2026, 4, 2)
    assert followups["avery"][2].due_on == date(2026, 4, 1)  # today
    assert _rows(staff.get(f"/insights/sales/?format=csv&table=followups&{MARCH}")) == [
        FOLLOWUPS_HEADER,
        ["Avery Adams", "3", "2", "0", "0", "1", "0", "0", "1", "1", "1", "300.00"],
        ["Sam Seller", "4", "1", "1", "1", "1", "0", "1", "0", "1", "1", "1200.50"],
    ]


def test_the_page_shows_the_follow_ups_with_their_total_and_bars(staff, followups):
    page = staff.get(f"/insights/sales/?{MARCH}").content.decode()
    assert "7 follow-ups created, 2026-03-01 to 2026-03-31" in page
    assert "where they stand today (2026-04-01)" in page
    assert page.index("Avery Adams") < page.index("Sam Seller")  # by name, not by any score
    total = page[page.index("<tfoot>") : page.index("</tfoot>")]
    assert "All salespeople" in total
    cells = re.findall(r'<td class="number">([^<]*)</td>', total)
    assert cells == ["7", "3", "1", "1", "2", "0", "1", "1", "2", "2", "1500.50"]
    # Sam's bar: four parts of a quarter each; Avery's: half on time, a quarter not yet due.
    assert '<rect class="on_time" x="0.0" y="0" width="25.0" height="10">' in page
    assert '<rect class="not_due" x="75.0" y="0" width="25.0" height="10">' in page
    assert '<rect class="on_time" x="0.0" y="0" width="50.0" height="10">' in page
    assert '<rect class="not_due" x="50.0" y="0" width="25.0" height="10">' in page
    assert 'format=csv&amp;table=followups">Download CSV</a>' in page
    assert 'format=xlsx&amp;table=detractors">Download Excel</a>' in page


def test_filters_narrow_the_follow_ups_to_their_tickets(staff, followups, customer):
    rows = _rows(staff.get(f"/insights/sales/?format=csv&table=followups&{MARCH}&product=reports"))
    assert rows[1:] == [["Sam Seller", "2", "1", "1", "0", "0", "0", "1", "0", "1", "0", "1200.50"]]
    rows = _rows(
        staff.get(f"/insights/sales/?format=csv&table=followups&{MARCH}&customer={customer.pk}")
    )
    assert [row[0] for row in rows[1:]] == ["Sam Seller"]
    rows = _rows(staff.get(f"/insights/sales/?format=csv&table=followups&{MARCH}&product=Billing"))
    assert rows[1:] == [
        ["Avery Adams", "3", "2", "0", "0", "1", "0", "0", "1", "1", "1", "300.00"],
        ["Sam Seller", "2", "0", "0", "1", "1", "0", "0", "0", "0", "1", "0.00"],
    ]
    rows = _rows(staff.get(f"/insights/sales/?format=csv&table=followups&{MARCH}&kind=call"))
    assert rows == [FOLLOWUPS_HEADER]


def _survey(clock, rep, customer, *, product, cause, resolved) -> Survey:
    """A call resolved at ``resolved`` for a contact of its own (one survey per contact in 30
    days): its survey is scheduled."""
    clock(resolved)
    contact = ContactFactory(customer=customer)
    ticket = ticket_create(
        customer=customer,
        contact=contact,
        kind="call",
        channel="web",
        subject="Question",
        product=product,
    )
    ticket_update(ticket=ticket, actor=rep, status="resolved", root_cause=cause, resolution="Ok")
    dispatch_pending()
    return Survey.objects.get(ticket=ticket)


def _answer(clock, survey, score, when) -> Survey:
    """The survey sent and answered at ``when``, through the services: the answer is an event
    the starter rules act on (a detractor's becomes the salesperson's follow-up)."""
    assert surveys_send_due(now=survey.send_after + timedelta(minutes=1)) >= 1
    clock(when)
    survey = survey_answer(survey=survey, score=score, comment="Too slow")
    dispatch_pending()
    return survey


def _answered(survey, score, when) -> None:
    """An answer recorded without its event, so no rule acts on it: the many answers NPS needs
    without the follow-ups a real answer may bring."""
    Survey.objects.filter(pk=survey.pk).update(
        status="answered",
        score=score,
        sent_at=when - timedelta(days=1),
        answered_at=when,
        changed_at=when,
    )


@pytest.fixture
def answers(clock, rep, starter_rules, sam):
    """Surveys of March, by product (root cause):

    - Reports: promoters 9, 9, 10, 10, 9 (product defect); passives 7 (usability), 8, 8
      (product defect); detractors (product defect): D1, 3 on Fri 6th 15:00, followed up Mon 9th
      11:00 (1 working day, over the weekend); D2, 5 on Mon 9th, followed up Thu 12th (3
      working days). 10 answers: 5 - 2 = +30 ± 48.
    - Billing (documentation): a promoter 10; D3, 0 on Tue 31st 23:30 in Berlin (21:30 UTC:
      March's), its follow-up open; D4, 6, of a customer without a salesperson: no follow-up.
    - Not March's: a 2 on April 1st 00:30 in Berlin (March 31st in UTC), a 10 in February, and a
      survey sent and not answered.
    """
    dora = CustomerFactory(name="Dora Data", salesperson=sam)
    nobody = CustomerFactory(name="Nobody's Ltd", salesperson=None)
    resolved = berlin(3, 2, 9)
    reports = {"product": "Reports", "cause": "product_defect", "resolved": resolved}
    for day, score in zip((3, 10, 17, 24, 31), (9, 9, 10, 10, 9), strict=True):
        _answered(_survey(clock, rep, dora, **reports), score, berlin(3, day, 12))
    passive = _survey(clock, rep, dora, product="Reports", cause="usability", resolved=resolved)
    _answered(passive, 7, berlin(3, 4, 12))
    for day in (11, 18):
        _answered(_survey(clock, rep, dora, **reports), 8, berlin(3, day, 12))
    d1 = _answer(clock, _survey(clock, rep, dora, **reports), 3, berlin(3, 6, 15))
    _outcome(clock, FollowUpTask.objects.get(ticket=d1.ticket), berlin(3, 9, 11), "satisfied")
    d2 = _answer(clock, _survey(clock, rep, dora, **reports), 5, berlin(3, 9, 10))
    _outcome(clock, FollowUpTask.objects.get(ticket=d2.ticket), berlin(3, 12, 11), "satisfied")
    billing = {"product": "Billing", "cause": "documentation", "resolved": berlin(3, 9, 9)}
    _answered(_survey(clock, rep, dora, **billing), 10, berlin(3, 12, 12))
    d4 = _answer(clock, _survey(clock, rep, nobody, **billing), 6, berlin(3, 20, 12))
    billing["resolved"] = berlin(3, 20, 9)
    d3 = _answer(clock, _survey(clock, rep, dora, **billing), 0, berlin(3, 31, 23, 30))
    _answer(clock, _survey(clock, rep, dora, **billing), 2, berlin(4, 1, 0, 30))
    february = _survey(clock, rep, dora, product="Reports", cause="other", resolved=berlin(2, 2, 9))
    _answered(february, 10, berlin(2, 20, 12))
    _survey(clock, rep, dora, **billing)
    surveys_send_due(now=berlin(3, 25, 9))
    clock(berlin(4, 1, 10))
    return {"d1": d1, "d2": d2, "d3": d3, "d4": d4}


def test_nps_overall_and_by_product_and_root_cause(staff, answers):
    assert _rows(staff.get(f"/insights/sales/?format=csv&table=nps&{MARCH}")) == [
        NPS_HEADER,
        # 6 promoters, 3 passives, 4 detractors of 13: p - d = 2/13, +15; the variance
        # (6/13 + 4/13 - (2/13)²) / 13 = 0.05735, ±1.96·√0.05735·100 = ±47.
        ["all", "All answers", "13", "6", "3", "4", "15", "47", ""],
        # p = 0.5, d = 0.2: (0.7 - 0.09) / 10 = 0.061, 1.96·√0.061·100 = 48.4.
        ["product", "Reports", "10", "5", "3", "2", "30", "48", ""],
        # p = 1/3, d = 2/3: (1 - 1/9) / 3 = 0.2963, 1.96·0.5443·100 = 106.7.
        ["product", "Billing", "3", "1", "0", "2", "-33", "107", TOO_FEW],
        # p = 5/9, d = 2/9: (7/9 - 1/9) / 9 = 0.07407, 1.96·0.2722·100 = 53.3.
        ["root cause", "Product defect", "9", "5", "2", "2", "33", "53", TOO_FEW],
        ["root cause", "Documentation", "3", "1", "0", "2", "-33", "107", TOO_FEW],
        ["root cause", "Usability", "1", "0", "1", "0", "0", "0", TOO_FEW],
    ]


def test_the_page_shows_nps_with_its_margin_and_hides_too_small_groups(staff, answers):
    page = staff.get(f"/insights/sales/?{MARCH}").content.decode()
    assert "NPS +15 ± 47, 13 answers, 2026-03-01 to 2026-03-31" in page
    reports = page[page.index("<td>Reports</td>") :]
    assert reports.index("+30") < reports.index("±48") < reports.index("</tr>")
    billing = page[page.index("<td>Billing</td>") :]
    assert billing.index("too few to read") < billing.index("</tr>")
    assert "107" not in billing[: billing.index("</tr>")]
    # Reports' bar: from the middle (100) to +30, its margin from 130 - 48 to 130 + 48.
    assert '<rect class="positive" x="100" y="1" width="30" height="8">' in page
    assert 'x1="82" y1="5" x2="178" y2="5"' in page


def test_detractors_followed_up_within_two_working_days(staff, answers):
    assert _rows(staff.get(f"/insights/sales/?format=csv&table=detractors&{MARCH}")) == [
        ["follow-up", "detractors", "share %"],
        ["Done within 2 working days", "1", "25.0"],  # D1: Friday's answer, Monday's call
        ["Done later", "1", "25.0"],  # D2: Monday's answer, Thursday's call
        ["Follow-up open", "1", "25.0"],  # D3: answered at 23:30 on the last day
        ["No follow-up", "1", "25.0"],  # D4: the customer has no salesperson
    ]
    page = staff.get(f"/insights/sales/?{MARCH}").content.decode()
    assert "1 of 4 detractors followed up within 2 working days (25%)" in page
    assert '<rect class="state-1" x="0.0" y="0" width="25.0" height="10">' in page


def test_followed_up_means_what_the_survey_page_shows(answers):
    # The report's link from answer to follow-up is the one surveys.selectors reads.
    [d1_task] = survey_followups(survey=answers["d1"])
    assert (d1_task.status, d1_task.due_on) == ("done", date(2026, 3, 10))
    [d3_task] = survey_followups(survey=answers["d3"])
    assert (d3_task.status, d3_task.due_on) == ("open", date(2026, 4, 2))
    assert survey_followups(survey=answers["d4"]) == []


def test_a_holiday_gives_a_detractor_one_more_day(settings, answers):
    march = Period(date(2026, 3, 1), date(2026, 3, 31))
    assert deadlines(march)[9 - 1] == date(2026, 3, 11)  # Monday 9th: Wednesday
    settings.HOLIDAYS = [date(2026, 3, 11)]
    assert deadlines(march)[9 - 1] == date(2026, 3, 12)
    # D2, answered Monday 9th and followed up on Thursday 12th, its last day, is now in time.
    states = detractor_followups(march, Q()).states
    assert [state.count for state in states] == [2, 0, 1, 1]


def test_each_answer_is_matched_with_its_own_follow_up(settings, clock, rep, starter_rules, sam):
    """A ticket resolved twice is asked twice: the follow-up of its first answer, done in
    time, says nothing of the second's, still open."""
    settings.SURVEY_CONTACT_INTERVAL_DAYS = 0
    dora = CustomerFactory(name="Dora Data", salesperson=sam)
    first = _survey(
        clock, rep, dora, product="Reports", cause="usability", resolved=berlin(3, 2, 9)
    )
    first = _answer(clock, first, 4, berlin(3, 5, 12))
    _outcome(clock, FollowUpTask.objects.get(ticket=first.ticket), berlin(3, 6, 10), "satisfied")
    clock(berlin(3, 10, 9))
    ticket = ticket_update(ticket=first.ticket, actor=rep, status="open")
    ticket_update(
        ticket=ticket, actor=rep, status="resolved", root_cause="usability", resolution="Again"
    )
    dispatch_pending()
    second = Survey.objects.exclude(pk=first.pk).get(ticket=ticket)
    _answer(clock, second, 2, berlin(3, 30, 12))
    clock(berlin(4, 1, 10))
    march = Period(date(2026, 3, 1), date(2026, 3, 31))
    assert [state.count for state in detractor_followups(march, Q()).states] == [1, 0, 1, 0]


def test_filters_narrow_the_answers_to_their_tickets(staff, answers):
    rows = _rows(staff.get(f"/insights/sales/?format=csv&table=nps&{MARCH}&product=billing"))
    assert rows[1] == ["all", "All answers", "3", "1", "0", "2", "-33", "107", TOO_FEW]
    rows = _rows(staff.get(f"/insights/sales/?format=csv&table=detractors&{MARCH}&product=Reports"))
    assert [row[1] for row in rows[1:]] == ["1", "1", "0", "0"]
    rows = _rows(staff.get(f"/insights/sales/?format=csv&table=nps&{MARCH}&kind=bug"))
    assert rows[1] == ["all", "All answers", "0", "0", "0", "0", "", "", TOO_FEW]


def test_an_empty_period_says_so(staff, followups, answers):
    page = staff.get(f"/insights/sales/?{EMPTY}")
    assert page.status_code == 200
    body = page.content.decode()
    assert "0 follow-ups created" in body
    assert "No follow-up was created in this period" in body
    assert "No survey was answered in this period" in body
    assert "No detractor answered in this period" in body
    assert _rows(staff.get(f"/insights/sales/?format=csv&table=followups&{EMPTY}")) == [
        FOLLOWUPS_HEADER
    ]
    assert [
        row[1]
        for row in _rows(staff.get(f"/insights/sales/?format=csv&table=detractors&{EMPTY}"))[1:]
    ] == [
        "0",
        "0",
        "0",
        "0",
    ]


def test_a_name_that_would_be_a_formula_is_exported_as_text(staff, followups, avery):
    avery.first_name = "=HYPERLINK(1)"
    avery.save()
    rows = _rows(staff.get(f"/insights/sales/?format=csv&table=followups&{MARCH}"))
    assert rows[1][0] == "'=HYPERLINK(1) Adams"


@pytest.mark.parametrize(
    "query",
    [
        "period=custom&start=2026-03-31&end=2026-03-01",
        "period=custom&start=2026-03-01",
        "kind=teapot",
        "customer=999999",
        "department=nowhere",
    ],
)
def test_bad_filters_are_refused_with_their_reason(staff, query):
    for url in ("/insights/sales/?", "/insights/sales/?format=csv&table=nps&"):
        response = staff.get(f"{url}{query}")
        assert response.status_code == 400
        assert b'class="errorlist' in response.content


def test_each_table_downloads_as_excel_too(staff, answers):
    response = staff.get(f"/insights/sales/?{MARCH}&format=xlsx&table=nps")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="sales-nps-2026-03-01-2026-03-31.xlsx"' in response["Content-Disposition"]
    assert response.content.startswith(b"PK")  # a workbook is a zip file


def test_an_unknown_table_is_not_found_and_the_report_needs_a_login(staff, client):
    assert staff.get("/insights/sales/?format=csv&table=salaries").status_code == 404
    staff.logout()
    assert client.get("/insights/sales/").status_code == 302
    assert client.get("/insights/sales/?format=csv&table=nps").status_code == 302


def _queries(staff) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert staff.get(f"/insights/sales/?{MARCH}").status_code == 200
    return len(captured)


def test_more_data_adds_no_queries(staff, clock, rep, followups, answers, avery):
    before = _queries(staff)
    # Another salesperson, product and root cause; more follow-ups, answers and detractors.
    kim = UserFactory(username="kim", first_name="Kim", last_name="Kay")
    other = CustomerFactory(name="Other AG", salesperson=kim)
    for day in (2, 3, 4):
        task = _bug_followup(clock, rep, other, berlin(3, day, 10), "Gadgets")
        _outcome(clock, task, berlin(3, day + 7, 10), "upsell", upsell_value=Decimal("5"))
    for day, score in ((10, 2), (11, 9), (12, 4)):
        survey = _survey(
            clock, rep, other, product="Gadgets", cause="installation", resolved=berlin(3, 2, 9)
        )
        _answer(clock, survey, score, berlin(3, day, 12))
    clock(berlin(4, 1, 10))
    page = staff.get(f"/insights/sales/?{MARCH}").content.decode()
    assert "Kim Kay" in page
    assert "Gadgets" in page
    assert _queries(staff) == before
