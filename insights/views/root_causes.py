"""The root-cause report: why customers needed help, largest cause first, who causes it, and
how it moved against the period before; each cause opens its tickets."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from helpdesk.db_routers import reads_from_replica
from insights.export import chosen_format, long_table_response, table_response
from insights.selectors.root_causes import resolved_in, root_cause_pareto
from insights.views.common import filter_query, report_filters
from tickets.models import Ticket


@login_required
@require_GET
@reads_from_replica
def root_causes(request: HttpRequest) -> HttpResponse:
    form = report_filters(request)
    if form.is_bound and form.errors:
        return render(request, "insights/root_causes.html", {"form": form}, status=400)
    period = form.chosen_period()
    rows = root_cause_pareto(period, form.ticket_filter())
    if chosen_format(request):
        return table_response(
            request,
            f"root-causes-{period.first}-{period.last}",
            ["root cause", "owner", "resolved", "share %", "cumulative %", "previous", "change"],
            (
                [
                    row.label,
                    row.owner,
                    row.count,
                    f"{row.share * 100:.1f}",
                    f"{row.cumulative * 100:.1f}",
                    row.previous,
                    row.change,
                ]
                for row in rows
            ),
        )
    most = max((row.count for row in rows), default=0)
    bars = [{"row": row, "width": round(100 * row.count / most, 1) if most else 0} for row in rows]
    return render(
        request,
        "insights/root_causes.html",
        {
            "form": form,
            "period": period,
            "previous": period.previous(),
            "rows": rows,
            "bars": bars,
            "total": sum(row.count for row in rows),
            "query": filter_query(request),
        },
    )


@login_required
@require_GET
@reads_from_replica
def root_cause_tickets(request: HttpRequest, cause: str) -> HttpResponse:
    if cause not in Ticket.RootCause.values:
        raise Http404("No such root cause.")
    form = report_filters(request)
    if form.is_bound and form.errors:
        # As the report itself: a filter that cannot be read is refused, not quietly dropped.
        return render(request, "insights/root_causes.html", {"form": form}, status=400)
    period = form.chosen_period()
    if chosen_format(request):
        return long_table_response(request, "root-cause-tickets", cause=cause)
    tickets = (
        resolved_in(period, form.ticket_filter())
        .filter(root_cause=cause)
        .select_related("customer")
        .order_by("-resolved_at", "-id")
    )
    return render(
        request,
        "insights/root_cause_tickets.html",
        {
            "cause": Ticket.RootCause(cause).label,
            "cause_value": cause,
            "period": period,
            "tickets": tickets[:500],
            "count": tickets.count(),
            "query": filter_query(request),
        },
    )


urlpatterns = [
    path("insights/root-causes/", root_causes, name="insights-root-causes"),
    path(
        "insights/root-causes/<str:cause>/", root_cause_tickets, name="insights-root-cause-tickets"
    ),
]
