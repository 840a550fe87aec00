"""Money and shipping against figures worked out by hand on a small fixed data set, today being
Friday 10 July 2026 in Berlin.

Invoices: Acme owes 300.00 (due 1 June) and 200.00 (due 1 July); its paid invoice, the one not
yet due and the one due today are not overdue. Birch owes 1,000.00 (due yesterday), Delta (a
partner) 80.00 (due 3 July); Cobalt paid.

Bug reports of the pay-for-bug customers (Birch, Cobalt, Delta): Birch on 15 January, at 23:30
on 31 March (the first quarter's last day, in Berlin) and at 00:30 on 1 April (still 31 March
in UTC: the second quarter here), and one at 00:30 on 1 July (outside the first half-year);
Cobalt on 5 May, and at 23:30 on New Year's Eve 2025 (outside). Delta reports none: zeros.

Returns (all Acme's), in days at each step:
    R1 Scanner, "Arrived cracked":    requested 1, authorised 1, awaiting 4, received 1,
                                       inspected 2, then a replacement shipped
    R2 Scanner, "  arrived CRACKED ": requested 3, authorised 3 (no "awaiting return"),
                                       received 2, inspected 4, then refunded
    R3 Printer, "Wrong item":         requested 3.5, authorised since (not timed)
    R4 Printer, "wrong item":         requested, no step yet
    R5 Scanner, in April:             outside March
"""

import csv
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO, StringIO
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import invoice_create
from insights.selectors import money as selectors
from insights.views import money as views
from tests.factories import CustomerFactory, return_ticket
from tickets.returns import rma_advance
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
HALF = "period=custom&start=2026-01-01&end=2026-06-30"
MARCH = "period=custom&start=2026-03-01&end=2026-03-31"
EMPTY = "period=custom&start=2025-01-01&end=2025-01-31"
KINDS = ["Call (question)", "Bug report", "Request for enhancement"]
KINDS += ["Return materials authorization"]
OVERDUE_HEADER = ["customer", "internal or partner", "salesperson", "overdue invoices"]
OVERDUE_HEADER += ["overdue amount (USD)", "oldest due", "days overdue", "tickets", *KINDS]
FUNNEL_HEADER = ["stage", "reached", "share of requested %", "there now", "median days there"]
FUNNEL_HEADER += ["timed"]
STAGES = ["requested", "authorised", "awaiting return", "received", "inspected"]
BY_HEADER = [*STAGES, "replacement shipped", "refunded", *[f"median days {s}" for s in STAGES]]
SCANNER = ["2", "2", "2", "2", "2", "1", "1", "2.0", "2.0", "4.0", "1.5", "3.0"]
PRINTER = ["2", "1", "0", "0", "0", "0", "0", "3.5", "", "", "", ""]


def at(time_machine, *when):
    time_machine.move_to(datetime(*when, tzinfo=BERLIN), tick=False)


def _invoice(customer, number, amount, due_on, *, paid_on=None):
    issued_on = due_on.replace(day=1) if due_on.day > 1 else due_on
    invoice_create(
        customer=customer,
        number=number,
        amount=Decimal(amount),
        issued_on=issued_on,
        due_on=due_on,
        paid_on=paid_on,
    )


def _ticket(time_machine, customer, kind, *when, product=""):
    at(time_machine, *when)
    return ticket_create(
        customer=customer, kind=kind, channel="phone", subject=f"{kind} {when}", product=product
    )


def _return(time_machine, customer, product, reason, created, *steps):
    """A return requested at ``created`` and taken through ``steps``: (step, when) pairs."""
    at(time_machine, *created)
    ticket = return_ticket(customer, product=product, rma_reason=reason)
    for step, when in steps:
        at(time_machine, *when)
        ticket = rma_advance(ticket=ticket, status=step, actor=None)
    return ticket


@pytest.fixture
def data(settings, time_machine, salesperson):
    settings.TIME_ZONE = "Europe/Berlin"
    at(time_machine, 2025, 12, 1, 9)
    acme = CustomerFactory(name="Acme", salesperson=salesperson)
    birch = CustomerFactory(name="Birch", pay_for_bug=True, salesperson=None)
    cobalt = CustomerFactory(name="Cobalt", pay_for_bug=True, salesperson=None)
    delta = CustomerFactory(name="Delta", pay_for_bug=True, is_internal=True, salesperson=None)
    _invoice(acme, "A1", "300.00", date(2026, 6, 1))
    _invoice(acme, "A2", "200.00", date(2026, 7, 1))
    _invoice(acme, "A3", "500.00", date(2026, 5, 1), paid_on=date(2026, 5, 3))
    _invoice(acme, "A4", "400.00", date(2026, 8, 1))  # not yet due
    _invoice(acme, "A5", "50.00", date(2026, 7, 10))  # due today: not overdue yet
    _invoice(birch, "B1", "1000.00", date(2026, 7, 9))
    _invoice(cobalt, "C1", "700.00", date(2026, 6, 1), paid_on=date(2026, 6, 20))
    _invoice(delta, "D1", "80.00", date(2026, 7, 3))

    _ticket(time_machine, acme, "bug", 2026, 2, 1, 10, product="Reports")
    birch_tickets = [
        _ticket(time_machine, birch, "bug", 2026, 1, 15, 10),
        _ticket(time_machine, birch, "call", 2026, 2, 10, 10),
        _ticket(time_machine, birch, "bug", 2026, 3, 31, 23, 30),
        _ticket(time_machine, birch, "bug", 2026, 4, 1, 0, 30),
    ]
    late = _ticket(time_machine, birch, "bug", 2026, 7, 1, 0, 30)
    _ticket(time_machine, cobalt, "bug", 2026, 5, 5, 10)
    _ticket(time_machine, cobalt, "bug", 2025, 12, 31, 23, 30)

    _return(
        time_machine,
        acme,
        "Scanner",
        "Arrived cracked",
        (2026, 3, 2, 9),
        ("authorised", (2026, 3, 3, 9)),
        ("awaiting_return", (2026, 3, 4, 9)),
        ("received", (2026, 3, 8, 9)),
        ("inspected", (2026, 3, 9, 9)),
        ("replacement_shipped", (2026, 3, 11, 9)),
    )
    _return(
        time_machine,
        acme,
        "Scanner",
        "  arrived CRACKED ",
        (2026, 3, 5, 9),
        ("authorised", (2026, 3, 8, 9)),
        ("received", (2026, 3, 11, 9)),
        ("inspected", (2026, 3, 13, 9)),
        ("refunded", (2026, 3, 17, 9)),
    )
    _return(
        time_machine,
        acme,
        "Printer",
        "Wrong item",
        (2026, 3, 20, 9),
        ("authorised", (2026, 3, 23, 21)),
    )
    _return(time_machine, acme, "Printer", "wrong item", (2026, 3, 25, 9))
    _return(
        time_machine,
        acme,
        "Scanner",
        "Arrived cracked",
        (2026, 4, 2, 9),
        ("authorised", (2026, 4, 3, 9)),
    )
    at(time_machine, 2026, 7, 10, 12)
    return {"acme": acme, "birch": birch, "birch_tickets": birch_tickets, "late": late}


@pytest.fixture
def staff(client, rep):
    client.force_login(rep)
    return client


def _csv(staff, query: str, table: str) -> list[list[str]]:
    response = staff.get(f"/insights/money/?{query}&format=csv&table={table}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(StringIO(response.content.decode())))


def test_customers_with_overdue_invoices_and_the_tickets_they_opened(staff, data):
    assert _csv(staff, HALF, "overdue") == [
        OVERDUE_HEADER,
        ["Birch", "no", "", "1", "1000.00", "2026-07-09", "1", "4", "1", "3", "0", "0"],
        ["Acme", "no", "seller", "2", "500.00", "2026-06-01", "39", "6", "0", "1", "0", "5"],
        ["Delta", "yes", "", "1", "80.00", "2026-07-03", "7", "0", "0", "0", "0", "0"],
    ]
    page = staff.get(f"/insights/money/?{HALF}").content.decode()
    assert "3 customers with overdue invoices today: USD 1,580.00" in page
    assert f'href="/customers/{data["acme"].pk}/"' in page
    drill_down = f"/insights/money/customers/{data['birch'].pk}/?{HALF}".replace("&", "&amp;")
    assert drill_down in page
    assert "(internal or partner)" in page
    assert 'width="100.0"' in page  # Birch's bar
    assert 'width="50.0"' in page  # Acme's


def test_the_ticket_filters_narrow_the_tickets_counted_not_the_customers(staff, data):
    rows = _csv(staff, f"{HALF}&kind=call", "overdue")
    assert [row[0] for row in rows[1:]] == ["Birch", "Acme", "Delta"]
    assert [row[7:] for row in rows[1:]] == [["1", "1", "0", "0", "0"], ["0"] * 5, ["0"] * 5]
    rows = _csv(staff, f"{HALF}&customer={data['acme'].pk}", "overdue")
    assert [row[:2] + row[7:8] for row in rows[1:]] == [["Acme", "no", "6"]]


def test_a_customer_opens_its_tickets_of_the_period(staff, data):
    url = f"/insights/money/customers/{data['birch'].pk}/?{HALF}"
    page = staff.get(url).content.decode()
    assert "4 tickets opened 2026-01-01 to 2026-06-30" in page
    for ticket in data["birch_tickets"]:
        assert f"/tickets/{ticket.pk}/" in page
    assert f"/tickets/{data['late'].pk}/" not in page
    rows = list(csv.reader(StringIO(staff.get(f"{url}&format=csv").content.decode())))
    assert rows[0] == ["ticket", "subject", "kind", "status", "product", "created"]
    assert [(row[0], row[2], row[5]) for row in rows[1:]] == [
        (data["birch_tickets"][3].reference, "Bug report", "2026-04-01"),
        (data["birch_tickets"][2].reference, "Bug report", "2026-03-31"),
        (data["birch_tickets"][1].reference, "Call (question)", "2026-02-10"),
        (data["birch_tickets"][0].reference, "Bug report", "2026-01-15"),
    ]
    only_calls = staff.get(f"{url}&kind=call").content.decode()
    assert "1 ticket opened" in only_calls
    assert staff.get("/insights/money/customers/999999/").status_code == 404


def test_pay_for_bug_customers_bug_reports_per_quarter(staff, data):
    assert _csv(staff, HALF, "pay-for-bug") == [
        ["customer", "Q1 2026", "Q2 2026", "total"],
        ["Birch", "2", "1", "3"],
        ["Cobalt", "0", "1", "1"],
        ["Delta", "0", "0", "0"],
    ]
    page = staff.get(f"/insights/money/?{HALF}").content.decode()
    assert "4 bug reports from pay-for-bug customers, 2026-01-01 to 2026-06-30" in page
    assert 'viewBox="0 0 20 10"' in page  # a column per quarter


def test_a_quarter_the_period_holds_only_part_of_says_which_days_it_counts(staff, data):
    assert _csv(staff, "period=custom&start=2026-02-15&end=2026-04-30", "pay-for-bug") == [
        ["customer", "Q1 2026 (2026-02-15 to 2026-03-31)", "Q2 2026 (2026-04-01 to 2026-04-30)"]
        + ["total"],
        ["Birch", "1", "1", "2"],
        ["Cobalt", "0", "0", "0"],
        ["Delta", "0", "0", "0"],
    ]


def test_the_return_funnel_with_the_days_at_each_step(staff, data):
    assert _csv(staff, MARCH, "returns") == [
        FUNNEL_HEADER,
        ["Requested", "4", "100.0", "1", "3.0", "3"],
        ["Authorised", "3", "75.0", "1", "2.0", "2"],
        ["Awaiting return", "2", "50.0", "0", "4.0", "1"],
        ["Received", "2", "50.0", "0", "1.5", "2"],
        ["Inspected", "2", "50.0", "0", "3.0", "2"],
        ["Replacement shipped", "1", "25.0", "1", "", ""],
        ["Refunded", "1", "25.0", "1", "", ""],
    ]
    assert _csv(staff, MARCH, "returns-by-product") == [
        ["product", *BY_HEADER],
        ["Printer", *PRINTER],
        ["Scanner", *SCANNER],
    ]
    # Reasons are grouped by their text trimmed and lower-cased.
    assert _csv(staff, MARCH, "returns-by-reason") == [
        ["return reason", *BY_HEADER],
        ["arrived cracked", *SCANNER],
        ["wrong item", *PRINTER],
    ]
    page = staff.get(f"/insights/money/?{MARCH}").content.decode()
    assert "4 returns requested, 2026-03-01 to 2026-03-31" in page
    assert '<rect x="12.5" y="0" width="75.0" height="10">' in page  # authorised, centred


def test_past_the_largest_groups_the_rest_make_one_row(staff, data, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_GROUPS", 1)
    assert _csv(staff, MARCH, "returns-by-product")[1:] == [
        ["Printer", *PRINTER],
        ["All other products", *SCANNER],
    ]


def test_without_medians_in_the_database_the_same_figures_are_computed_here(
    staff, data, monkeypatch
):
    in_database = {
        table: _csv(staff, MARCH, table)
        for table in ("returns", "returns-by-product", "returns-by-reason")
    }
    monkeypatch.setattr(selectors, "in_database", lambda queryset: False)
    for table, rows in in_database.items():
        assert _csv(staff, MARCH, table) == rows


def test_filters_narrow_the_returns(staff, data):
    rows = _csv(staff, f"{MARCH}&product=scanner", "returns-by-product")
    assert rows[1:] == [["Scanner", *SCANNER]]
    page = staff.get(f"/insights/money/?{MARCH}&kind=call").content.decode()
    assert "The kind filter leaves out returns" in page
    assert "The kind filter leaves out bug reports" in page


def test_a_workbook_has_numbers_as_numbers(staff, data):
    response = staff.get(f"/insights/money/?{MARCH}&format=xlsx&table=returns")
    assert response["Content-Disposition"].endswith('returns-2026-03-01-2026-03-31.xlsx"')
    rows = list(
        openpyxl.load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True)
    )
    assert rows[0] == tuple(FUNNEL_HEADER)
    assert rows[3] == ("Awaiting return", 2, 50, 0, 4, 1)
    amounts = staff.get(f"/insights/money/?{HALF}&format=xlsx&table=overdue")
    sheet = openpyxl.load_workbook(BytesIO(amounts.content)).active
    assert [cell.value for cell in sheet[2]][:5] == ["Birch", "no", "", 1, 1000]


def test_the_page_shows_the_largest_and_the_download_has_every_customer(staff, data, monkeypatch):
    monkeypatch.setattr(views, "PAGE_ROWS", 1)
    page = staff.get(f"/insights/money/?{HALF}").content.decode()
    assert "3 customers with overdue invoices today: USD 1,580.00" in page
    assert "The 1 largest amounts are shown" in page
    assert "The 1 customers with the most are shown, the totals are of all 3" in page
    assert f'href="/customers/{data["acme"].pk}/"' not in page
    assert len(_csv(staff, HALF, "overdue")) == 4


def test_an_empty_period_says_so(staff, data):
    response = staff.get(f"/insights/money/?{EMPTY}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "0 returns requested" in page
    assert "No return was requested in this period" in page
    assert "0 bug reports from pay-for-bug customers" in page
    # Overdue invoices are today's, whatever the period: none of their tickets fall in it.
    assert [row[7] for row in _csv(staff, EMPTY, "overdue")[1:]] == ["0", "0", "0"]
    assert _csv(staff, EMPTY, "pay-for-bug")[1:] == [
        ["Birch", "0", "0"],
        ["Cobalt", "0", "0"],
        ["Delta", "0", "0"],
    ]
    assert _csv(staff, EMPTY, "returns-by-reason") == [["return reason", *BY_HEADER]]


def test_a_text_that_would_be_a_formula_is_exported_as_text(staff, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    customer = CustomerFactory(name="=HYPERLINK(1)", salesperson=None)
    _invoice(customer, "X1", "10.00", date(2020, 1, 1))
    assert _csv(staff, "", "overdue")[1][0] == "'=HYPERLINK(1)"


def test_the_query_count_does_not_grow_with_the_data(staff, data, time_machine):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff.get(f"/insights/money/?{HALF}").status_code == 200
        return len(queries)

    before = count()
    for n in range(3):
        customer = CustomerFactory(name=f"More {n}", pay_for_bug=True, salesperson=None)
        _invoice(customer, f"M{n}", "10.00", date(2026, 6, 1))
        _ticket(time_machine, customer, "bug", 2026, 2, 1 + n, 10)
        _return(
            time_machine,
            customer,
            f"Product {n}",
            f"Reason {n}",
            (2026, 2, 1 + n, 11),
            ("authorised", (2026, 2, 5, 9)),
            ("received", (2026, 2, 9, 9)),
        )
    at(time_machine, 2026, 7, 10, 12)
    assert count() == before


@pytest.mark.parametrize(
    "query",
    [
        "period=custom&start=2026-03-31&end=2026-03-01",
        "period=custom&start=2026-03-01",
        "kind=teapot",
        "customer=999999",
    ],
)
def test_bad_filters_are_refused_with_their_reason(staff, data, query):
    for url in ("/insights/money/", f"/insights/money/customers/{data['acme'].pk}/"):
        response = staff.get(f"{url}?{query}")
        assert response.status_code == 400
        assert b'class="errorlist' in response.content


def test_an_unknown_table_is_not_found(staff, data):
    assert staff.get("/insights/money/?format=csv&table=nonsense").status_code == 404


def test_the_report_needs_a_login(client):
    assert client.get("/insights/money/").status_code == 302
