"""The root-cause report against figures worked out by hand on a small fixed data set: a ticket
resolved just before and one just after midnight in the company's time zone, a reopened one,
the period before, an empty period, filters, the CSV and the editable owners."""

import csv
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Department
from insights.models import RootCauseOwner
from tests.factories import CustomerFactory
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
MARCH = "period=custom&start=2026-03-01&end=2026-03-31"


def _resolved(customer, cause, when, *, kind="bug", product="Reports", status="resolved"):
    ticket = ticket_create(customer=customer, kind=kind, channel="phone", subject=f"{cause}")
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status, root_cause=cause, resolution="Fixed", resolved_at=when, product=product
    )
    return ticket


@pytest.fixture
def tickets(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    acme = CustomerFactory(name="Acme")
    made = {
        "march": [
            _resolved(acme, "product_defect", datetime(2026, 3, 2, 10, tzinfo=BERLIN)),
            _resolved(acme, "product_defect", datetime(2026, 3, 15, 9, tzinfo=BERLIN)),
            # 23:30 in Berlin on the last day: March, though it is 21:30 UTC.
            _resolved(acme, "product_defect", datetime(2026, 3, 31, 23, 30, tzinfo=BERLIN)),
            _resolved(acme, "documentation", datetime(2026, 3, 20, 12, tzinfo=BERLIN), kind="call"),
        ],
        # 00:30 in Berlin on April 1st is still March 31st in UTC: not March here.
        "april": _resolved(acme, "product_defect", datetime(2026, 4, 1, 0, 30, tzinfo=BERLIN)),
        "before": [
            _resolved(acme, "documentation", datetime(2026, 2, 3, 12, tzinfo=BERLIN)),
            _resolved(acme, "documentation", datetime(2026, 2, 27, 12, tzinfo=BERLIN)),
            _resolved(acme, "shipping_damage", datetime(2026, 2, 10, 12, tzinfo=BERLIN)),
        ],
    }
    reopened = ticket_create(customer=acme, kind="bug", channel="phone", subject="Reopened")
    Ticket.objects.filter(pk=reopened.pk).update(status="open", root_cause="", resolved_at=None)
    return made


@pytest.fixture
def staff(client, rep):
    client.force_login(rep)
    return client


def _rows(body: str) -> list[list[str]]:
    return list(csv.reader(StringIO(body)))


def test_the_pareto_with_shares_owners_and_the_change_against_the_month_before(staff, tickets):
    response = staff.get(f"/insights/root-causes/?{MARCH}&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert _rows(response.content.decode()) == [
        ["root cause", "owner", "resolved", "share %", "cumulative %", "previous", "change"],
        ["Product defect", "Engineering", "3", "75.0", "75.0", "0", "3"],
        ["Documentation", "Marketing", "1", "25.0", "100.0", "2", "-1"],
        ["Shipping damage", "Shipping", "0", "0.0", "100.0", "1", "-1"],
    ]
    page = staff.get(f"/insights/root-causes/?{MARCH}").content.decode()
    assert "4 tickets resolved, 2026-03-01 to 2026-03-31" in page
    assert "Change against 2026-01-29 to 2026-02-28" in page
    assert '<svg class="bar"' in page
    assert 'width="100.0"' in page  # the largest cause's bar


def test_filters_narrow_what_counts(staff, tickets):
    rows = _rows(staff.get(f"/insights/root-causes/?{MARCH}&kind=call&format=csv").content.decode())
    # The month before had only bugs: no call counts there.
    assert rows[1:] == [["Documentation", "Marketing", "1", "100.0", "100.0", "0", "1"]]
    rows = _rows(
        staff.get(
            f"/insights/root-causes/?{MARCH}&product=reports&kind=bug&format=csv"
        ).content.decode()
    )
    assert rows[1][:3] == ["Product defect", "Engineering", "3"]


def test_the_customer_is_typed_by_name_or_number(staff, tickets):
    other = CustomerFactory(name="Globex")
    _resolved(other, "usability", datetime(2026, 3, 3, 10, tzinfo=BERLIN))
    for typed in ("globex", str(other.pk)):
        rows = _rows(
            staff.get(
                f"/insights/root-causes/?{MARCH}&customer={typed}&format=csv"
            ).content.decode()
        )
        assert [row[0] for row in rows[1:]] == ["Usability"], typed
    page = staff.get(f"/insights/root-causes/?{MARCH}&customer=Nobody+Ltd")
    assert page.status_code == 400
    assert "No customer has that name or number." in page.content.decode()


def test_an_empty_period_says_so(staff, tickets):
    page = staff.get("/insights/root-causes/?period=custom&start=2025-01-01&end=2025-01-31")
    assert page.status_code == 200
    assert b"No ticket was resolved in this period" in page.content
    assert b"0 tickets resolved" in page.content


def test_each_cause_opens_its_tickets(staff, tickets):
    page = staff.get(f"/insights/root-causes/product_defect/?{MARCH}").content.decode()
    for ticket in tickets["march"][:3]:
        assert f"/tickets/{ticket.pk}/" in page
    assert f"/tickets/{tickets['april'].pk}/" not in page
    assert "3 tickets resolved" in page
    rows = _rows(
        staff.get(f"/insights/root-causes/product_defect/?{MARCH}&format=csv").content.decode()
    )
    assert [row[0] for row in rows[1:]] == [t.reference for t in reversed(tickets["march"][:3])]
    assert rows[1][5] == "2026-03-31"  # the company's date, not UTC's
    assert staff.get("/insights/root-causes/nonsense/").status_code == 404


def test_the_owner_of_a_cause_is_editable(staff, tickets):
    owner = RootCauseOwner.objects.get(root_cause="documentation")
    owner.department = Department.objects.get(slug="support")
    owner.save()
    rows = _rows(staff.get(f"/insights/root-causes/?{MARCH}&format=csv").content.decode())
    assert rows[2][:2] == ["Documentation", "Support"]


def test_a_text_that_would_be_a_formula_is_exported_as_text(staff, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    ticket = _resolved(
        CustomerFactory(name="=HYPERLINK(1)"), "other", datetime(2026, 3, 3, tzinfo=BERLIN)
    )
    rows = _rows(staff.get(f"/insights/root-causes/other/?{MARCH}&format=csv").content.decode())
    assert rows[1][0] == ticket.reference
    assert rows[1][2] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    "query",
    [
        "period=custom&start=2026-03-31&end=2026-03-01",
        "period=custom&start=2026-03-01",
        "period=custom&start=yesterday&end=2026-03-01",
        "kind=teapot",
        "customer=999999",
    ],
)
def test_bad_filters_are_refused_with_their_reason(staff, query):
    for url in ("/insights/root-causes/", "/insights/root-causes/product_defect/"):
        response = staff.get(f"{url}?{query}")
        assert response.status_code == 400
        assert b'class="errorlist' in response.content


def test_the_reports_need_a_login(client):
    response = client.get("/insights/root-causes/")
    assert response.status_code == 302


def test_a_cause_nobody_edited_keeps_its_default_owner(staff, tickets):
    RootCauseOwner.objects.all().delete()
    rows = _rows(staff.get(f"/insights/root-causes/?{MARCH}&format=csv").content.decode())
    assert rows[1][:2] == ["Product defect", "Engineering"]
    RootCauseOwner.objects.create(root_cause="product_defect", department=None)
    rows = _rows(staff.get(f"/insights/root-causes/?{MARCH}&format=csv").content.decode())
    assert rows[1][:2] == ["Product defect", ""]
