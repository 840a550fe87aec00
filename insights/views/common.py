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
    """The page's query string without `format`, for links to the same rows elsewhere."""
    query = request.GET.copy()
    query.pop("format", None)
    return query.urlencode()
