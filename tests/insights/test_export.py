"""Downloads of report tables: Excel workbooks whose texts stay texts, and a long table written
by the real worker in the background, its progress page, its file for its owner only."""

import csv
from datetime import datetime, timedelta
from io import BytesIO, StringIO
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.http import Http404
from django.utils import timezone

from insights.export import export_build, exports_delete_expired
from insights.models import Export
from tests.conftest import wait_for
from tests.factories import CustomerFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create

BERLIN = ZoneInfo("Europe/Berlin")
MARCH = "period=custom&start=2026-03-01&end=2026-03-31"


def _resolved(customer, subject, day):
    ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject=subject)
    Ticket.objects.filter(pk=ticket.pk).update(
        status="resolved",
        root_cause="documentation",
        resolution="=cmd|' /C calc'!A0",
        resolved_at=datetime(2026, 3, day, 12, tzinfo=BERLIN),
    )
    return ticket


@pytest.fixture
def staff(client, rep):
    client.force_login(rep)
    return client


def _workbook(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(BytesIO(response.content)).active
    return list(sheet.iter_rows())


@pytest.mark.django_db
def test_a_workbook_keeps_numbers_as_numbers_and_every_text_as_text(staff, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    _resolved(CustomerFactory(name='=HYPERLINK("http://x.example","click")'), "a", 3)
    _resolved(CustomerFactory(name="Acme"), "+1 that looks like a sum", 4)
    rows = _workbook(staff.get(f"/insights/root-causes/?{MARCH}&format=xlsx"))
    assert [cell.value for cell in rows[0]][:3] == ["root cause", "owner", "resolved"]
    assert rows[0][0].font.bold
    assert rows[1][0].value == "Documentation"
    assert rows[1][2].value == 2
    assert rows[1][2].data_type == "n"

    tickets = _workbook(staff.get(f"/insights/root-causes/documentation/?{MARCH}&format=xlsx"))
    cells = [cell for row in tickets for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    values = {cell.value for cell in cells}
    assert '=HYPERLINK("http://x.example","click")' in values  # shown as typed, inert
    assert "=cmd|' /C calc'!A0" in values
    assert "+1 that looks like a sum" in values


@pytest.mark.django_db
def test_every_short_table_comes_as_a_workbook_too(staff):
    for url, first in (("/insights/time-to-fix/", "kind"), ("/insights/flow/", "day")):
        rows = _workbook(staff.get(f"{url}?{MARCH}&format=xlsx"))
        assert rows[0][0].value == first, url
    flow = _workbook(staff.get(f"/insights/flow/?{MARCH}&format=xlsx"))
    assert len(flow) == 1 + 31  # a row for every day of March, zero-filled


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_long_table_is_written_by_the_worker_with_its_progress(
    live_worker, client, rep, settings
):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.INSIGHTS_EXPORT_BACKGROUND_ROWS = 2
    acme = CustomerFactory(name="Acme")
    made = [_resolved(acme, f"ticket {day}", day) for day in (2, 3, 4)]
    client.force_login(rep)

    response = client.get(f"/insights/root-causes/documentation/?{MARCH}&format=csv")
    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/insights/exports/{export.pk}/"
    assert export.rows_total == 3
    assert export.requested_by == rep

    def finished():
        export.refresh_from_db()
        return export.status in (Export.Status.DONE, Export.Status.FAILED)

    wait_for(finished)
    assert export.status == Export.Status.DONE, export.error
    page = client.get(f"/insights/exports/{export.pk}/").content.decode()
    assert "3 rows" in page
    assert 'http-equiv="refresh"' not in page  # done: the page stops refreshing itself
    download = client.get(f"/insights/exports/{export.pk}/download/")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")
    body = b"".join(download.streaming_content).decode()
    header, *rows = list(csv.reader(StringIO(body)))
    assert header[0] == "ticket"
    assert [row[0] for row in rows] == [t.reference for t in reversed(made)]
    assert {row[6] for row in rows} == {"'=cmd|' /C calc'!A0"}


@pytest.mark.django_db
def test_the_progress_page_refreshes_until_the_file_is_ready(staff, rep):
    export = Export.objects.create(
        requested_by=rep,
        table="root-cause-tickets",
        query=MARCH,
        arguments={"cause": "documentation"},
        format="csv",
        filename="x.csv",
        rows_total=80_000,
        rows_done=20_000,
        status=Export.Status.RUNNING,
    )
    page = staff.get(f"/insights/exports/{export.pk}/").content.decode()
    assert 'http-equiv="refresh"' in page
    assert '<progress max="100" value="25"' in page
    assert "20000 of 80000 rows written" in page
    assert staff.get(f"/insights/exports/{export.pk}/download/").status_code == 404


@pytest.mark.django_db
def test_an_export_is_its_owners_alone(client, rep):
    export = Export.objects.create(
        requested_by=rep, table="root-cause-tickets", format="csv", filename="x.csv"
    )
    client.force_login(UserFactory(username="someone-else"))
    assert client.get(f"/insights/exports/{export.pk}/").status_code == 404
    assert client.get(f"/insights/exports/{export.pk}/download/").status_code == 404


@pytest.mark.django_db
def test_building_twice_writes_once_and_a_failure_says_why(rep, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.TIME_ZONE = "Europe/Berlin"
    _resolved(CustomerFactory(name="Acme"), "one", 5)
    export = Export.objects.create(
        requested_by=rep,
        table="root-cause-tickets",
        query=MARCH,
        arguments={"cause": "documentation"},
        format="xlsx",
        filename="d.xlsx",
    )
    assert export_build(export.pk) is True
    export.refresh_from_db()
    first = export.file.name
    assert export.status == Export.Status.DONE
    assert export.rows_done == 1
    assert export_build(export.pk) is False  # a redelivered task leaves it alone
    export.refresh_from_db()
    assert export.file.name == first

    broken = Export.objects.create(
        requested_by=rep,
        table="root-cause-tickets",
        arguments={"cause": "no-such-cause"},
        format="csv",
        filename="b.csv",
    )
    with pytest.raises(Http404, match="No such root cause"):
        export_build(broken.pk)
    broken.refresh_from_db()
    assert broken.status == Export.Status.FAILED
    assert "No such root cause" in broken.error


@pytest.mark.django_db
def test_old_exports_are_deleted_with_their_files(rep, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.INSIGHTS_EXPORT_KEEP_DAYS = 7
    export = Export.objects.create(
        requested_by=rep,
        table="root-cause-tickets",
        format="csv",
        filename="old.csv",
        arguments={"cause": "documentation"},
    )
    export_build(export.pk)
    export.refresh_from_db()
    path = export.file.path
    fresh = Export.objects.create(
        requested_by=rep, table="root-cause-tickets", format="csv", filename="new.csv"
    )
    Export.objects.filter(pk=export.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert exports_delete_expired() == 1
    assert list(Export.objects.all()) == [fresh]
    assert not __import__("os").path.exists(path)


@pytest.mark.django_db
def test_a_long_list_of_requests_for_enhancement_is_an_export_too(
    staff, rep, settings, tmp_path, time_machine
):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.TIME_ZONE = "Europe/Berlin"
    settings.INSIGHTS_EXPORT_BACKGROUND_ROWS = 1
    acme = CustomerFactory(name="Acme")
    for day, product in ((2, "Reports"), (3, "Reports"), (4, "")):
        time_machine.move_to(datetime(2026, 3, day, 10, tzinfo=BERLIN), tick=False)
        ticket_create(
            customer=acme, kind="rfe", channel="phone", subject=f"wish {day}", product=product
        )
    time_machine.move_to(datetime(2026, 4, 2, 10, tzinfo=BERLIN), tick=False)
    for given, product, subjects in (
        ("&for=Reports", "Reports", ["wish 3", "wish 2"]),
        ("", None, ["wish 4", "wish 3", "wish 2"]),
    ):
        response = staff.get(f"/insights/market/requests/?{MARCH}{given}&format=csv")
        assert response.status_code == 302
        export = Export.objects.get(pk=response["Location"].split("/")[-2])
        assert export.table == "market-requests"
        assert export.arguments == {"product": product}
        assert export.rows_total == len(subjects)
        assert export_build(export.pk) is True
        export.refresh_from_db()
        header, *rows = list(csv.reader(StringIO(export.file.read().decode())))
        assert header[0] == "ticket"
        assert header[-1] == "description"
        assert [row[6] for row in rows] == subjects
    # Under the limit the list downloads at once, as before.
    settings.INSIGHTS_EXPORT_BACKGROUND_ROWS = 50_000
    response = staff.get(f"/insights/market/requests/?{MARCH}&for=Reports&format=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(
        'market-requests-reports-2026-03-01-2026-03-31.csv"'
    )
