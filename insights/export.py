"""Report tables as downloads: CSV or an Excel workbook, safe to open in a spreadsheet (a text
is never taken for a formula). A table too long to write while the browser waits (over
INSIGHTS_EXPORT_BACKGROUND_ROWS) is written by a worker instead: the page then follows its
progress and offers the file when it is ready."""

import csv
import io
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import xlsxwriter
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils import timezone

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# xlsxwriter otherwise turns text that looks like a formula, a link or a number into one.
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


def _cell(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_csv(
    out, header: list[str], rows: Iterable, progress: Callable[[int], None] | None = None
):
    writer = csv.writer(out)
    writer.writerow(header)
    for done, row in enumerate(rows, start=1):
        writer.writerow([_cell(value) for value in row])
        if progress:
            progress(done)


def write_xlsx(
    out, header: list[str], rows: Iterable, progress: Callable[[int], None] | None = None
):
    """One sheet, a bold header row; numbers as numbers, everything else as text (written
    with write_string, so no cell is ever a formula or a link)."""
    workbook = xlsxwriter.Workbook(out, {**WORKBOOK_OPTIONS, "in_memory": False})
    sheet = workbook.add_worksheet("Report")
    bold = workbook.add_format({"bold": True})
    for column, title in enumerate(header):
        sheet.write_string(0, column, str(title), bold)
    for line, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, bool) or value is None:
                sheet.write_string(line, column, "" if value is None else str(value))
            elif isinstance(value, int | float | Decimal):
                sheet.write_number(line, column, float(value))
            elif isinstance(value, datetime | date):
                sheet.write_string(line, column, value.isoformat())
            else:
                sheet.write_string(line, column, str(value))
        if progress:
            progress(line)
    workbook.close()


def download(filename: str, header: list[str], rows: Iterable, *, fmt: str = "csv"):
    """The table as an attachment, written now. ``filename`` has no extension."""
    content_type, extension = FORMATS.get(fmt, FORMATS["csv"])
    if fmt == "xlsx":
        with tempfile.TemporaryFile() as spool:
            write_xlsx(spool, header, rows)
            spool.seek(0)
            body = spool.read()
    else:
        text = io.StringIO()
        write_csv(text, header, rows)
        body = text.getvalue().encode()
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    return response


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    """The table as CSV (``filename`` with its extension)."""
    return download(filename.removesuffix(".csv"), header, rows, fmt="csv")


def chosen_format(request: HttpRequest) -> str | None:
    """The download asked for (``?format=csv`` or ``xlsx``), or None for the page."""
    fmt = request.GET.get("format")
    return fmt if fmt in FORMATS else None


def table_response(request: HttpRequest, filename: str, header: list[str], rows) -> HttpResponse:
    """A short table (a row per group, a day or a quarter) as the format asked for; ``filename``
    without extension."""
    return download(filename, header, rows, fmt=chosen_format(request) or "csv")


# --- long tables ------------------------------------------------------------------------------


@dataclass
class Table:
    """A table that may be long: its rows are read only when they are written."""

    filename: str  # without extension
    header: list[str]
    count: int
    rows: Callable[[], Iterable[list]]


# A long table's builder, by name: from the report's query string (and the URL's arguments)
# to the Table. The worker that writes an export in the background rebuilds it from these.
LONG_TABLES: dict[str, Callable[..., Table]] = {}


def long_table(name: str):
    def register(builder: Callable[..., Table]) -> Callable[..., Table]:
        LONG_TABLES[name] = builder
        return builder

    return register


def _long_tables() -> dict[str, Callable[..., Table]]:
    import insights.tables  # noqa: F401 - registers the long tables

    return LONG_TABLES


def long_table_response(request: HttpRequest, name: str, **arguments) -> HttpResponse:
    """The long table ``name`` as a download now, or, over the background limit, as an export
    a worker writes while the browser follows its progress."""
    from insights.models import Export

    fmt = chosen_format(request) or "csv"
    table = _long_tables()[name](request.GET, **arguments)
    if table.count <= settings.INSIGHTS_EXPORT_BACKGROUND_ROWS:
        return download(table.filename, table.header, table.rows(), fmt=fmt)
    query = request.GET.copy()
    query.pop("format", None)
    export = Export.objects.create(
        requested_by=request.user,  # type: ignore[misc]  # the report views need a login
        table=name,
        query=query.urlencode(),
        arguments=arguments,
        format=fmt,
        rows_total=table.count,
        filename=f"{table.filename}.{FORMATS[fmt][1]}",
    )
    from insights.tasks import build_export

    transaction.on_commit(lambda: build_export.delay(export.pk))
    return redirect("insights-export", export.pk)


PROGRESS_EVERY = 2000  # rows between two progress updates


def export_build(export_id) -> bool:
    """Write the export's file (idempotent: a finished export is left alone; one whose worker
    died part-way is written again from the start). The rows are read as a report's are, from
    the replica when there is one."""
    from helpdesk.db_routers import reports_on_replica
    from insights.models import Export

    claimed = Export.objects.filter(
        pk=export_id, status__in=[Export.Status.QUEUED, Export.Status.RUNNING]
    ).update(status=Export.Status.RUNNING, started_at=timezone.now(), rows_done=0)
    if not claimed:
        return False
    export = Export.objects.get(pk=export_id)

    written = [0]

    def progress(done: int) -> None:
        written[0] = done
        if done % PROGRESS_EVERY == 0:
            Export.objects.filter(pk=export.pk).update(rows_done=done)

    try:
        with reports_on_replica():
            table = _long_tables()[export.table](QueryDict(export.query), **export.arguments)
            writer = write_xlsx if export.format == "xlsx" else write_csv
            with tempfile.TemporaryFile() as spool:
                if export.format == "xlsx":
                    writer(spool, table.header, table.rows(), progress)
                else:
                    text = io.TextIOWrapper(spool, encoding="utf-8", newline="", write_through=True)
                    writer(text, table.header, table.rows(), progress)
                    text.detach()
                spool.seek(0)
                export.file.save(export.filename, File(spool), save=False)
    except Exception as error:
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.FAILED, error=str(error)[:500], finished_at=timezone.now()
        )
        raise
    Export.objects.filter(pk=export.pk).update(
        status=Export.Status.DONE,
        file=export.file.name,
        rows_total=written[0],
        rows_done=written[0],
        finished_at=timezone.now(),
    )
    return True


def exports_delete_expired(*, now: datetime | None = None) -> int:
    """Delete the exports (and their files) older than INSIGHTS_EXPORT_KEEP_DAYS."""
    from insights.models import Export

    cutoff = (now or timezone.now()) - timedelta(days=settings.INSIGHTS_EXPORT_KEEP_DAYS)
    deleted = 0
    for export in Export.objects.filter(created_at__lt=cutoff).iterator():
        if export.file:
            export.file.delete(save=False)
        export.delete()
        deleted += 1
    return deleted
