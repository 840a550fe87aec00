"""Market research: what customers ask for, per product, weighed by how many customers and how
much revenue stand behind it; problems per 100 customers of each product; and the problems
hit by the most customers. Each table has its CSV; requests and groups open their tickets."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from helpdesk.db_routers import reads_from_replica
from insights.export import chosen_format, long_table_response, table_response
from insights.filters import Period
from insights.selectors.market import (
    NO_PRODUCT,
    ProblemGroup,
    ProblemRow,
    RequestsTable,
    group_tickets,
    product_requests,
    product_tables,
    revenue_window,
    same_problem_groups,
)
from insights.views.common import filter_query, report_filters

GROUPS_SHOWN = 100  # on the page; the CSV has them all
TICKETS_SHOWN = 500


def _percent(share: float) -> str:
    return f"{share * 100:.1f}"


def _day(moment) -> str:
    return timezone.localdate(moment).isoformat() if moment else ""


def _bars(rows, value) -> list[dict]:
    """Each row with its bar's width: its value against the largest, in percent."""
    most = max((value(row) or 0 for row in rows), default=0)
    return [
        {"row": row, "width": round(100 * (value(row) or 0) / most, 1) if most else 0}
        for row in rows
    ]


def _requests_table(request: HttpRequest, period: Period, table: RequestsTable) -> HttpResponse:
    return table_response(
        request,
        f"market-requests-{period.first}-{period.last}",
        [
            "product",
            "requests",
            "customers asking",
            "share of customers %",
            "their paid revenue (12 months)",
            "share of revenue %",
        ],
        (
            [
                row.label,
                row.requests,
                row.customers,
                _percent(row.customer_share),
                row.revenue,
                _percent(row.revenue_share),
            ]
            for row in table.rows
        ),
    )


def _problems_table(request: HttpRequest, period: Period, rows: list[ProblemRow]) -> HttpResponse:
    return table_response(
        request,
        f"market-problems-{period.first}-{period.last}",
        [
            "product",
            "bug reports",
            "returns",
            "problems",
            "customers hit",
            "customers of the product",
            "problems per 100 customers",
        ],
        (
            [
                row.label,
                row.bugs,
                row.returns,
                row.problems,
                row.customers_hit,
                row.base,
                "" if row.per_100 is None else f"{row.per_100:.1f}",
            ]
            for row in rows
        ),
    )


def _groups_table(request: HttpRequest, period: Period, groups: list[ProblemGroup]) -> HttpResponse:
    return table_response(
        request,
        f"market-same-problem-{period.first}-{period.last}",
        [
            "first ticket",
            "subject",
            "customers hit",
            "tickets",
            "tickets in the period",
            "products",
            "first created",
            "last created",
        ],
        (
            [
                group.reference,
                group.subject,
                group.customers,
                group.tickets,
                group.in_period,
                "; ".join(group.products),
                _day(group.first_created),
                _day(group.last_created),
            ]
            for group in groups
        ),
    )


# Each table of the page as a download: only the table asked for is computed.
TABLES = {
    "requests": lambda request, period, condition: _requests_table(
        request, period, product_tables(period, condition).requests
    ),
    "problems": lambda request, period, condition: _problems_table(
        request, period, product_tables(period, condition).problems
    ),
    "groups": lambda request, period, condition: _groups_table(
        request, period, same_problem_groups(period, condition)
    ),
}


@login_required
@require_GET
@reads_from_replica
def market(request: HttpRequest) -> HttpResponse:
    form = report_filters(request)
    if form.is_bound and form.errors:
        return render(request, "insights/market.html", {"form": form}, status=400)
    period, condition = form.chosen_period(), form.ticket_filter()
    if chosen_format(request):
        table = request.GET.get("table", "requests")
        if table not in TABLES:
            raise Http404("No such table: choose requests, problems or groups.")
        return TABLES[table](request, period, condition)
    tables = product_tables(period, condition)
    groups = same_problem_groups(period, condition)
    return render(
        request,
        "insights/market.html",
        {
            "form": form,
            "period": period,
            "requests": tables.requests,
            "request_bars": _bars(tables.requests.rows, lambda row: row.customers),
            "problems": tables.problems,
            "problem_bars": _bars(tables.problems, lambda row: row.per_100),
            "problem_count": tables.problem_count,
            "groups": _bars(groups[:GROUPS_SHOWN], lambda group: group.customers),
            "group_count": len(groups),
            "groups_shown": GROUPS_SHOWN,
            "query": filter_query(request),
        },
    )


@login_required
@require_GET
@reads_from_replica
def market_requests(request: HttpRequest) -> HttpResponse:
    """The RFEs behind a row of the first table (`for` names the product, empty for none),
    with their text; every product's without `for`."""
    form = report_filters(request)
    if form.is_bound and form.errors:
        # As the report itself: a filter that cannot be read is refused, not quietly dropped.
        return render(request, "insights/market.html", {"form": form}, status=400)
    period = form.chosen_period()
    product = request.GET.get("for")
    tickets = product_requests(period, form.ticket_filter(), product)
    if chosen_format(request):
        # Written by a worker, with its progress shown, past the background limit.
        return long_table_response(request, "market-requests", product=product)
    return render(
        request,
        "insights/market_requests.html",
        {
            "product": None if product is None else (product or NO_PRODUCT),
            "period": period,
            "window": revenue_window(period),
            "tickets": tickets[:TICKETS_SHOWN],
            "count": tickets.count(),
            "shown": TICKETS_SHOWN,
            "query": filter_query(request),
        },
    )


@login_required
@require_GET
@reads_from_replica
def market_group(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Every ticket of a same-problem group, named by any of its tickets."""
    form = report_filters(request)
    if form.is_bound and form.errors:
        return render(request, "insights/market.html", {"form": form}, status=400)
    tickets = list(group_tickets(ticket_id))
    if not tickets:
        raise Http404("No such ticket.")
    if chosen_format(request):
        return table_response(
            request,
            f"market-same-problem-T-{ticket_id}",
            [
                "ticket",
                "created",
                "customer",
                "internal or partner",
                "kind",
                "product",
                "status",
                "subject",
            ],
            (
                [
                    t.reference,
                    _day(t.created_at),
                    t.customer.name,
                    "yes" if t.customer.is_internal else "no",
                    t.get_kind_display(),
                    t.product,
                    t.get_status_display(),
                    t.subject,
                ]
                for t in tickets
            ),
        )
    customers = {t.customer_id for t in tickets if not t.customer.is_internal}
    return render(
        request,
        "insights/market_group.html",
        {
            "first": tickets[0],
            "tickets": tickets,
            "customers": len(customers),
            "query": filter_query(request),
        },
    )


urlpatterns = [
    path("insights/market/", market, name="insights-market"),
    path("insights/market/requests/", market_requests, name="insights-market-requests"),
    path(
        "insights/market/same-problem/<int:ticket_id>/",
        market_group,
        name="insights-market-group",
    ),
]
