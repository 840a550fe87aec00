"""Backlog and flow: what came in, what was resolved and what was left open each day; how each
department answered its queue against its target; and calls, for information."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from helpdesk.db_routers import reads_from_replica
from insights.charts import day_rows, flow_chart
from insights.export import chosen_format, table_response
from insights.selectors.flow import SPLITS, calls_logged, department_response, flow
from insights.views.common import filter_query, report_filters


def _hours(value) -> str:
    return "" if value is None else f"{value:.1f}"


@login_required
@require_GET
@reads_from_replica
def flow_page(request: HttpRequest) -> HttpResponse:
    form = report_filters(request)
    split = request.GET.get("group", "")
    split = split if split in SPLITS else ""
    context = {
        "form": form,
        "group": split,
        "groups": [(value, label) for value, (label, _) in SPLITS.items()],
    }
    if form.is_bound and form.errors:
        return render(request, "insights/flow.html", context, status=400)
    period = form.chosen_period()
    table = request.GET.get("table", "flow")
    if chosen_format(request) and table == "response":
        rows = department_response(
            period,
            form.ticket_filter("ticket__", department=False),
            department=form.chosen("department"),
        )
        return table_response(
            request,
            f"department-response-{period.first}-{period.last}",
            ["department", "target working h", "items", "acknowledged"]
            + ["median h to acknowledge", "p90 h to acknowledge", "past target", "breach rate %"],
            (
                [
                    row.department,
                    row.target_hours,
                    row.items,
                    row.acknowledged,
                    _hours(row.median_hours),
                    _hours(row.p90_hours),
                    row.breached,
                    f"{row.breach_rate * 100:.1f}",
                ]
                for row in rows
            ),
        )
    series = flow(period, form.ticket_filter(), split=split, rollup=form.rollup_filter())
    if chosen_format(request):
        return table_response(
            request,
            f"backlog-{period.first}-{period.last}",
            ["day", SPLITS[split][0].lower(), "created", "resolved", "open at end of day"],
            (
                [day.day.isoformat(), line.label, day.created, day.resolved, day.open]
                for line in series
                for day in line.days
            ),
        )
    return render(
        request,
        "insights/flow.html",
        {
            **context,
            "period": period,
            "series": [(line, flow_chart(line.days), day_rows(line.days)) for line in series],
            "response": department_response(
                period,
                form.ticket_filter("ticket__", department=False),
                department=form.chosen("department"),
            ),
            "calls": calls_logged(period, form.ticket_filter("ticket__")),
            "query": filter_query(request),
        },
    )


urlpatterns = [
    path("insights/flow/", flow_page, name="insights-flow"),
]
