"""Time to fix: how long customers waited for a first answer and for the fix, median and 90th
percentile, in working and calendar hours, and how often a fix did not hold."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from helpdesk.db_routers import reads_from_replica
from insights.export import chosen_format, table_response
from insights.selectors.time_to_fix import GROUPS, REOPEN_WINDOW_DAYS, time_to_fix
from insights.views.common import filter_query, report_filters


def _hours(value) -> str:
    return "" if value is None else f"{value:.1f}"


@login_required
@require_GET
@reads_from_replica
def time_to_fix_page(request: HttpRequest) -> HttpResponse:
    form = report_filters(request)
    group = request.GET.get("group", "kind")
    group = group if group in GROUPS else "kind"
    context = {"form": form, "group": group, "groups": [(k, v[0]) for k, v in GROUPS.items()]}
    if form.is_bound and not form.is_valid():
        return render(request, "insights/time_to_fix.html", context, status=400)
    period = form.chosen_period()
    rows = time_to_fix(period, form.ticket_filter(), group=group)
    if chosen_format(request):
        header = [GROUPS[group][0].lower(), "tickets"]
        for what in ("first response", "first resolution", "final resolution"):
            for unit in ("working", "calendar"):
                header += [f"{what} median h ({unit})", f"{what} p90 h ({unit})"]
        header += [f"reopened within {REOPEN_WINDOW_DAYS} days", "reopen rate %"]
        return table_response(
            request,
            f"time-to-fix-{period.first}-{period.last}",
            header,
            (
                [
                    row.group,
                    row.tickets,
                    *[
                        _hours(value)
                        for spread in (
                            row.first_response,
                            row.first_response_calendar,
                            row.first_resolution,
                            row.first_resolution_calendar,
                            row.final_resolution,
                            row.final_resolution_calendar,
                        )
                        for value in (spread.median, spread.p90)
                    ],
                    row.reopened,
                    f"{row.reopen_rate * 100:.1f}",
                ]
                for row in rows
            ),
        )
    return render(
        request,
        "insights/time_to_fix.html",
        {
            **context,
            "period": period,
            "rows": rows,
            "total": sum(row.tickets for row in rows),
            "window": REOPEN_WINDOW_DAYS,
            "query": filter_query(request),
        },
    )


urlpatterns = [
    path("insights/time-to-fix/", time_to_fix_page, name="insights-time-to-fix"),
]
