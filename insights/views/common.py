"""What every report page does the same way: read the filters from the URL, and keep them for
the links the page makes (CSV, drill-downs)."""

from django.http import HttpRequest

from insights.filters import ReportFilterForm


def report_filters(request: HttpRequest) -> ReportFilterForm:
    """The filters as given in the URL (validated), or the defaults when none are."""
    form = ReportFilterForm(request.GET or None)
    if request.GET:
        form.is_valid()
    return form


def filter_query(request: HttpRequest) -> str:
    """The page's filters as a query string, without the download's `format` and `table`, for
    the links the page makes (downloads, drill-downs, other reports)."""
    query = request.GET.copy()
    for name in ("format", "table"):
        query.pop(name, None)
    return query.urlencode()
