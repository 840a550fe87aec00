"""Market research against figures worked out by hand on a small fixed data set, in March 2026
(Europe/Berlin): requests for enhancement from three customers who paid 10,000, 20,000 and
70,000 in the twelve months to March 31st (an unpaid invoice, one paid the day before the
window and one paid after it do not count), an internal customer left out everywhere, tickets
just inside and just outside the period's midnights, problems per 100 customers of each
product, and "same problem" links rolled up into groups, one with a cycle. The customers of a
product are counted twice: from the tickets, and from the product customers rollup refreshed
on 12 March (so the tickets before are read from it, and the later ones from the tickets)."""

import csv
from datetime import date, datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from insights.filters import Period
from insights.models import ProductCustomer
from insights.rollups import rollups_refresh
from insights.selectors.market import revenue_window
from tests.factories import CustomerFactory, InvoiceFactory, return_ticket
from tickets.models import Ticket
from tickets.services import ticket_create, ticket_link

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("counted_from")]
BERLIN = ZoneInfo("Europe/Berlin")
MARCH = "period=custom&start=2026-03-01&end=2026-03-31"
EMPTY = "period=custom&start=2025-01-01&end=2025-01-31"


def _paid(customer, amount, paid_on, issued_on=None):
    issued_on = issued_on or paid_on
    InvoiceFactory(
        customer=customer,
        amount=Decimal(amount),
        issued_on=issued_on,
        due_on=issued_on,
        paid_on=paid_on,
    )


def _ticket(time_machine, when, customer, kind, product, subject, description=""):
    time_machine.move_to(when, tick=False)
    if kind == "rma":
        return return_ticket(customer, product=product, subject=subject)
    return ticket_create(
        customer=customer,
        kind=kind,
        channel="phone",
        subject=subject,
        description=description,
        product=product,
    )


def _at(*args):
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def data(settings, time_machine):
    settings.TIME_ZONE = "Europe/Berlin"
    acme = CustomerFactory(name="Acme")
    birch = CustomerFactory(name="Birch")
    cobalt = CustomerFactory(name="Cobalt")
    delta = CustomerFactory(name="Delta")
    evergreen = CustomerFactory(name="Evergreen")
    lab = CustomerFactory(name="Our lab", is_internal=True)
    # The revenue window for March 2026 is 2025-04-01 to 2026-03-31.
    _paid(acme, "10000", date(2026, 2, 10))
    InvoiceFactory(customer=acme, amount=Decimal("5000"), paid_on=None)  # unpaid
    _paid(acme, "7000", date(2025, 3, 31))  # the day before the window
    _paid(birch, "20000", date(2025, 4, 1))  # the window's first day
    _paid(cobalt, "70000", date(2026, 3, 31))  # its last day
    _paid(cobalt, "1000", date(2026, 4, 1))  # after it
    _paid(delta, "100000", date(2025, 9, 1))
    _paid(lab, "50000", date(2025, 9, 1))  # internal: not the market

    def t(when, customer, kind, product, subject, description=""):
        return _ticket(time_machine, when, customer, kind, product, subject, description)

    made = {
        "birch_jan": t(_at(2026, 1, 15, 10), birch, "bug", "Reports", "Export crashes"),
        "cobalt_old": t(_at(2025, 11, 20, 10), cobalt, "bug", "Reports", "First crash"),
        "old_birch": t(_at(2025, 12, 1, 10), birch, "call", "Router", "Router setup"),
        "old_delta": t(_at(2025, 12, 2, 10), delta, "call", "Router", "Router setup too"),
        # 00:30 in Berlin on March 1st: still February 28th in UTC, but March here.
        "birch_rfe": t(_at(2026, 3, 1, 0, 30), birch, "rfe", "Reports", "PDF export", "As PDF"),
        "acme_rfe": t(
            _at(2026, 3, 3, 9), acme, "rfe", "Reports", "Scheduled exports", "Every Monday."
        ),
        "acme_bug1": t(_at(2026, 3, 5, 10), acme, "bug", "Reports", "Export crashes again"),
        "acme_bug2": t(_at(2026, 3, 6, 10), acme, "bug", "Reports", "Totals are wrong"),
        "evergreen_rma": t(_at(2026, 3, 10, 10), evergreen, "rma", "Reports", "Dead unit"),
        "evergreen_call": t(_at(2026, 3, 11, 10), evergreen, "call", "Reports", "How to"),
        "evergreen_rfe": t(_at(2026, 3, 11, 11), evergreen, "rfe", "", "Dark mode"),
        "delta_bug": t(_at(2026, 3, 12, 10), delta, "bug", "Router", "Drops packets"),
        "delta_rfe": t(_at(2026, 3, 13, 10), delta, "rfe", "Router", "IPv6", "We need IPv6."),
        "lab_rfe": t(_at(2026, 3, 14, 10), lab, "rfe", "Reports", "Internal wish"),
        "lab_bug": t(_at(2026, 3, 14, 11), lab, "bug", "Reports", "Internal crash"),
        "cobalt_rfe": t(
            _at(2026, 3, 20, 10), cobalt, "rfe", "Reports", "Formulas", "=SUM(A1) would help"
        ),
        # 23:30 in Berlin on the last day: March (21:30 UTC).
        "acme_rfe2": t(_at(2026, 3, 31, 23, 30), acme, "rfe", "Reports", "Excel export"),
        # 00:30 in Berlin on April 1st (still March 31st in UTC): not March.
        "acme_april": t(_at(2026, 4, 1, 0, 30), acme, "rfe", "Reports", "More exports"),
        "delta_april": t(_at(2026, 4, 2, 10), delta, "call", "Reports", "First Reports call"),
    }
    for one, other in [
        # A: five tickets, four customers (and the lab), with a cycle; Cobalt's is two links
        # away from any ticket of March.
        ("birch_jan", "acme_bug1"),
        ("cobalt_old", "birch_jan"),
        ("acme_bug1", "evergreen_rma"),
        ("evergreen_rma", "birch_jan"),
        ("lab_bug", "acme_bug1"),
        # B: two tickets of two products.
        ("delta_bug", "acme_bug2"),
        # C: only tickets of December: not a group of March.
        ("old_birch", "old_delta"),
        # D: one ticket in March, one after it.
        ("cobalt_rfe", "acme_april"),
    ]:
        ticket_link(ticket=made[one], other=made[other], actor=None)
    time_machine.move_to(_at(2026, 4, 20, 12), tick=False)
    return made


@pytest.fixture(params=["the tickets", "the rollup"])
def counted_from(request, data, time_machine):
    if request.param == "the rollup":
        time_machine.move_to(_at(2026, 3, 12, 15), tick=False)
        rollups_refresh()
        time_machine.move_to(_at(2026, 4, 20, 12), tick=False)
    return request.param


@pytest.fixture
def staff(client, rep):
    client.force_login(rep)
    return client


def _csv(staff, url: str) -> list[list[str]]:
    response = staff.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(StringIO(response.content.decode())))


def _table(staff, table: str, query: str = MARCH) -> list[list[str]]:
    return _csv(staff, f"/insights/market/?{query}&format=csv&table={table}")


def test_requests_by_product_with_customers_and_their_revenue(staff, data):
    assert _table(staff, "requests") == [
        [
            "product",
            "requests",
            "customers asking",
            "share of customers %",
            "their paid revenue (12 months)",
            "share of revenue %",
        ],
        # Acme twice (3rd and 31st, 23:30), Birch (1st, 00:30), Cobalt; not the lab's, not
        # Acme's of April 1st. 3 of the 5 customers on record; 10,000 + 20,000 + 70,000 of the
        # 200,000 all customers paid.
        ["Reports", "4", "3", "60.0", "100000.00", "50.0"],
        ["Router", "1", "1", "20.0", "100000.00", "50.0"],
        ["(no product)", "1", "1", "20.0", "0.00", "0.0"],
    ]


def test_the_revenue_is_of_the_customers_asking_only(staff, data, time_machine):
    # Acme reports a Router bug but asks nothing of the Router: its 10,000 are not the
    # Router's, though Acme now counts among the Router's customers hit.
    acme = data["acme_rfe"].customer
    _ticket(time_machine, _at(2026, 3, 16, 10), acme, "bug", "Router", "Slow")
    time_machine.move_to(_at(2026, 4, 20, 12), tick=False)
    assert _table(staff, "requests")[2] == ["Router", "1", "1", "20.0", "100000.00", "50.0"]
    assert _table(staff, "problems")[2] == ["Router", "2", "0", "2", "2", "3", "66.7"]


def test_problems_per_100_customers_of_each_product(staff, data):
    assert _table(staff, "problems") == [
        [
            "product",
            "bug reports",
            "returns",
            "problems",
            "customers hit",
            "customers of the product",
            "problems per 100 customers",
        ],
        # Two bugs of Acme's and Evergreen's return (not the lab's bug), against the four
        # customers with a Reports ticket before April (Birch, Acme, Evergreen, Cobalt; Delta's
        # first is of April 2nd).
        ["Reports", "2", "1", "3", "2", "4", "75.0"],
        # Delta's bug, against Birch and Delta (December's calls count: any ticket ever).
        ["Router", "1", "0", "1", "1", "2", "50.0"],
    ]


# It writes tickets dated before a refresh made earlier, which no rollup can know of until the
# next one (test_the_customers_of_a_product_come_from_the_rollup_until_it_is_refreshed).
@pytest.mark.parametrize("counted_from", ["the tickets"], indirect=True)
def test_problems_rank_by_rate_not_by_count_or_name(staff, data, time_machine):
    acme, birch, cobalt, delta, evergreen = (
        data[name].customer
        for name in ("acme_rfe", "birch_rfe", "cobalt_rfe", "delta_bug", "evergreen_rma")
    )
    for customer in (birch, cobalt, delta):
        _ticket(time_machine, _at(2026, 2, 2, 10), customer, "call", "Antenna", "How to")
    _ticket(time_machine, _at(2026, 3, 4, 10), acme, "bug", "Antenna", "Weak signal")
    _ticket(time_machine, _at(2026, 3, 4, 11), evergreen, "bug", "Zeta", "Zeta fails")
    time_machine.move_to(_at(2026, 4, 20, 12), tick=False)
    rows = _table(staff, "problems")
    assert [(row[0], row[3], row[5], row[6]) for row in rows[1:]] == [
        ("Zeta", "1", "1", "100.0"),
        ("Reports", "3", "4", "75.0"),
        ("Router", "1", "2", "50.0"),
        ("Antenna", "1", "4", "25.0"),
    ]


def test_same_problem_groups_largest_first(staff, data):
    rows = _table(staff, "groups")
    assert rows[0] == [
        "first ticket",
        "subject",
        "customers hit",
        "tickets",
        "tickets in the period",
        "products",
        "first created",
        "last created",
    ]
    assert rows[1:] == [
        # Cobalt, Birch, Acme and Evergreen; the lab's ticket counts as a ticket, not as a
        # customer.
        [data["birch_jan"].reference, "Export crashes", "4", "5", "2", "Reports"]
        + ["2025-11-20", "2026-03-14"],
        [data["acme_bug2"].reference, "Totals are wrong", "2", "2", "2", "Reports; Router"]
        + ["2026-03-06", "2026-03-12"],
        # The April ticket belongs to the group, but is not of the period.
        [data["cobalt_rfe"].reference, "Formulas", "2", "2", "1", "Reports"]
        + ["2026-03-20", "2026-04-01"],
    ]


def test_the_page_shows_each_table_with_its_bars_and_denominators(staff, data):
    response = staff.get(f"/insights/market/?{MARCH}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "6 requests for enhancement, 2026-03-01 to 2026-03-31" in page
    assert "of the 5 customers on record" in page
    assert "invoices paid 2025-04-01 to 2026-03-31" in page
    assert "USD 100,000.00" in page
    assert "60.0%" in page
    assert "4 problems reported" in page
    assert "3 problems linked across tickets" in page
    assert "hit by 4 customers" in page
    assert page.count('<svg class="bar"') == 3 + 2 + 3  # a bar per row of each table
    assert 'width="100.0"' in page
    march = MARCH.replace("&", "&amp;")
    assert f"/insights/market/requests/?{march}&amp;for=Reports" in page
    assert f'/insights/market/requests/?{march}&amp;for="' in page  # no product
    assert f"/insights/market/same-problem/{data['birch_jan'].pk}/" in page
    assert "format=csv&amp;table=problems" in page


def test_a_product_opens_its_requests_with_their_text(staff, data):
    url = f"/insights/market/requests/?{MARCH}&for=Reports"
    page = staff.get(url).content.decode()
    assert "4 requests created 2026-03-01 to 2026-03-31" in page
    assert "Every Monday." in page
    for name in ("birch_rfe", "acme_rfe", "cobalt_rfe", "acme_rfe2"):
        assert f"/tickets/{data[name].pk}/" in page
    for name in ("acme_april", "lab_rfe", "delta_rfe"):
        assert f"/tickets/{data[name].pk}/" not in page
    rows = _csv(staff, f"{url}&format=csv")
    assert rows == [
        [
            "ticket",
            "created",
            "customer",
            "customer's paid revenue (12 months)",
            "product",
            "status",
            "subject",
            "description",
        ],
        [data["acme_rfe2"].reference, "2026-03-31", "Acme", "10000.00", "Reports", "New"]
        + ["Excel export", ""],
        # A description that would be a formula is written as text.
        [data["cobalt_rfe"].reference, "2026-03-20", "Cobalt", "70000.00", "Reports", "New"]
        + ["Formulas", "'=SUM(A1) would help"],
        [data["acme_rfe"].reference, "2026-03-03", "Acme", "10000.00", "Reports", "New"]
        + ["Scheduled exports", "Every Monday."],
        # The company's day, not UTC's (February 28th, 23:30).
        [data["birch_rfe"].reference, "2026-03-01", "Birch", "20000.00", "Reports", "New"]
        + ["PDF export", "As PDF"],
    ]
    no_product = _csv(staff, f"/insights/market/requests/?{MARCH}&for=&format=csv")
    assert [row[0] for row in no_product[1:]] == [data["evergreen_rfe"].reference]
    everything = _csv(staff, f"/insights/market/requests/?{MARCH}&format=csv")
    assert len(everything) == 1 + 6


def test_a_group_opens_its_tickets(staff, data):
    url = f"/insights/market/same-problem/{data['acme_bug1'].pk}/?{MARCH}"
    page = staff.get(url).content.decode()
    assert "5 tickets linked to each other" in page
    assert "hit by 4 customers" in page
    assert "(internal or partner)" in page
    rows = _csv(staff, f"{url}&format=csv")
    assert [row[0] for row in rows[1:]] == [
        data[name].reference
        for name in ("cobalt_old", "birch_jan", "acme_bug1", "evergreen_rma", "lab_bug")
    ]
    assert rows[5][2:4] == ["Our lab", "yes"]
    assert staff.get("/insights/market/same-problem/999999/").status_code == 404


def test_filters_narrow_what_counts(staff, data):
    # Only bugs: no request for enhancement, and the returns drop out of the problems.
    assert _table(staff, "requests", f"{MARCH}&kind=bug")[1:] == []
    assert _table(staff, "problems", f"{MARCH}&kind=bug")[1:] == [
        ["Reports", "2", "0", "2", "1", "4", "50.0"],
        ["Router", "1", "0", "1", "1", "2", "50.0"],
    ]
    # One product: group B is the only one with a Router ticket of March, one of its two.
    assert _table(staff, "requests", f"{MARCH}&product=router")[1:] == [
        ["Router", "1", "1", "20.0", "100000.00", "50.0"]
    ]
    groups = _table(staff, "groups", f"{MARCH}&product=router")
    assert [row[:5] for row in groups[1:]] == [
        [data["acme_bug2"].reference, "Totals are wrong", "2", "2", "1"]
    ]
    # One customer: the shares stay of all customers and all revenue.
    assert _table(staff, "requests", f"{MARCH}&customer=Cobalt")[1:] == [
        ["Reports", "1", "1", "20.0", "70000.00", "35.0"]
    ]


def test_an_empty_period_says_so(staff, data):
    response = staff.get(f"/insights/market/?{EMPTY}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "0 requests for enhancement, 2025-01-01 to 2025-01-31" in page
    assert "No customer asked for an enhancement in this period" in page
    assert "No bug report or return was created in this period" in page
    assert "No ticket of this period with these filters is linked" in page
    assert '<svg class="bar"' not in page
    for table in ("requests", "problems", "groups"):
        assert len(_table(staff, table, EMPTY)) == 1  # the header only


def test_a_table_downloads_as_a_workbook_too(staff, data):
    response = staff.get(f"/insights/market/?{MARCH}&format=xlsx&table=groups")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert staff.get(f"/insights/market/?{MARCH}&format=csv&table=nonsense").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "period=custom&start=2026-03-31&end=2026-03-01",
        "period=custom&start=2026-03-01",
        "kind=teapot",
        "customer=Nobody%20at%20all",
    ],
)
def test_bad_filters_are_refused_with_their_reason(staff, data, query):
    urls = [
        "/insights/market/",
        "/insights/market/requests/",
        f"/insights/market/same-problem/{data['acme_bug1'].pk}/",
    ]
    for url in urls:
        response = staff.get(f"{url}?{query}")
        assert response.status_code == 400, url
        assert b'class="errorlist' in response.content


def test_the_report_needs_a_login(client):
    assert client.get("/insights/market/").status_code == 302


def test_the_revenue_window_is_the_twelve_months_to_the_periods_end():
    assert revenue_window(Period(date(2026, 3, 1), date(2026, 3, 31))) == (
        date(2025, 4, 1),
        date(2026, 3, 31),
    )
    # A year before February 29th, 2024 has no 29th: the window starts on March 1st.
    assert revenue_window(Period(date(2024, 2, 1), date(2024, 2, 28))) == (
        date(2023, 3, 1),
        date(2024, 2, 28),
    )


def test_the_query_count_does_not_grow_with_the_data(staff, data, time_machine):
    urls = [
        f"/insights/market/?{MARCH}",
        f"/insights/market/requests/?{MARCH}&for=Reports",
        f"/insights/market/same-problem/{data['birch_jan'].pk}/?{MARCH}",
    ]

    def counts() -> list[int]:
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert staff.get(url).status_code == 200
            found.append(len(queries))
        return found

    before = counts()
    assert before[0] <= 15
    for n in range(4):
        customer = CustomerFactory(name=f"More {n}")
        _paid(customer, "10", date(2026, 1, 1))
        rfe = _ticket(time_machine, _at(2026, 3, 2 + n, 9), customer, "rfe", "Reports", f"W{n}")
        bug = _ticket(time_machine, _at(2026, 3, 2 + n, 10), customer, "bug", f"P{n}", f"B{n}")
        _ticket(time_machine, _at(2026, 3, 2 + n, 11), customer, "rma", f"P{n}", f"R{n}")
        ticket_link(ticket=bug, other=rfe, actor=None)
        ticket_link(ticket=bug, other=data["birch_jan"], actor=None)
    time_machine.move_to(_at(2026, 4, 20, 12), tick=False)
    assert counts() == before


@pytest.mark.parametrize("counted_from", ["the tickets"], indirect=True)
def test_the_customers_of_a_product_come_from_the_rollup_until_it_is_refreshed(
    staff, data, time_machine
):
    rollups_refresh()  # on 20 April: it holds every ticket
    birch = data["old_birch"].customer
    assert ProductCustomer.objects.filter(product="Router", customer=birch).exists()
    # Birch's only Router ticket is moved to another product behind the report's back: the
    # rollup still counts Birch among Router's customers until its next refresh.
    Ticket.objects.filter(pk=data["old_birch"].pk).update(product="Modem")
    router = [row for row in _table(staff, "problems") if row[0] == "Router"]
    assert router[0][5] == "2"
    rollups_refresh()
    router = [row for row in _table(staff, "problems") if row[0] == "Router"]
    assert router[0][5:] == ["1", "100.0"]
