"""Money and shipping: customers with overdue invoices who still open tickets, the bugs
pay-for-bug customers report each quarter, and the return (RMA) funnel with the days spent at
each of shipping's steps. Each table downloads on its own (``format=csv`` or ``xlsx``, with
``table=``)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import Customer
from helpdesk.db_routers import reads_from_replica
from insights.export import chosen_format, table_response
from insights.filters import Period
from insights.selectors.money import (
    GROUPINGS,
    KINDS,
    LABELS,
    MAX_GROUPS,
    STAGES,
    STAYS,
    FunnelRow,
    OverdueTable,
    PayForBugTable,
    customer_tickets_in,
    overdue_customers,
    pay_for_bug_by_quarter,
    return_funnel,
)
from insights.views.common import filter_query, report_filters
from tickets.models import Ticket

TABLES = ("overdue", "pay-for-bug", "returns", "returns-by-product", "returns-by-reason")
# Rows of the customer tables on the page (the largest first); their download has every row.
PAGE_ROWS = 100


def _width(value: int, most: int) -> float:
    return round(100 * value / most, 1) if most else 0


def _columns(values: list[int], most: int) -> list[dict]:
    """Small columns side by side (one per value, on a scale to ``most``) for an inline SVG
    of viewBox ``0 0 {10 * len(values)} 10``."""
    columns = []
    for index, value in enumerate(values):
        height = round(10 * value / most, 2) if most else 0
        columns.append({"x": index * 10 + 1, "y": round(10 - height, 2), "height": height})
    return columns


# --- the downloads ------------------------------------------------------------------------------


def _overdue_table(request, period: Period, table: OverdueTable) -> HttpResponse:
    return table_response(
        request,
        f"overdue-customers-{period.first}-{period.last}",
        [
            "customer",
            "internal or partner",
            "salesperson",
            "overdue invoices",
            f"overdue amount ({settings.CURRENCY})",
            "oldest due",
            "days overdue",
            "tickets",
            *[label for _, label in KINDS],
        ],
        (
            [
                row.name,
                "yes" if row.is_internal else "no",
                row.salesperson,
                row.invoices,
                row.amount,
                row.oldest_due_on.isoformat(),
                row.days_overdue,
                row.tickets,
                *row.by_kind,
            ]
            for row in table.rows
        ),
    )


def _pay_for_bug_table(request, period: Period, table: PayForBugTable) -> HttpResponse:
    return table_response(
        request,
        f"pay-for-bug-{period.first}-{period.last}",
        ["customer", *[quarter.heading for quarter in table.quarters], "total"],
        ([row.name, *row.counts, row.total] for row in table.rows),
    )


def _funnel_table(request, period: Period, row: FunnelRow) -> HttpResponse:
    return table_response(
        request,
        f"returns-{period.first}-{period.last}",
        ["stage", "reached", "share of requested %", "there now", "median days there", "timed"],
        (
            [
                stage.label,
                stage.reached,
                round(100 * stage.reached / row.returns, 1) if row.returns else 0.0,
                stage.now,
                None if stage.is_ending else stage.days,
                None if stage.is_ending else stage.measured,
            ]
            for stage in row.stages
        ),
    )


def _funnel_by_table(request, period: Period, grouping: str, rows) -> HttpResponse:
    return table_response(
        request,
        f"returns-by-{grouping}-{period.first}-{period.last}",
        [
            GROUPINGS[grouping][0].lower(),
            *[LABELS[stage].lower() for stage in STAGES],
            *[f"median days {LABELS[stage].lower()}" for stage in STAYS],
        ],
        (
            [
                row.label,
                *[stage.reached for stage in row.stages],
                *[stage.days for stage in row.stages if stage.key in STAYS],
            ]
            for row in rows
        ),
    )


def _download(request, table: str, period: Period, condition, *, today, customer):
    """One table of the page, every row of it, as the format asked for; only that table is
    read."""
    if table == "overdue":
        overdue = overdue_customers(period, condition, today=today, customer=customer)
        return _overdue_table(request, period, overdue)
    if table == "pay-for-bug":
        pay_for_bug = pay_for_bug_by_quarter(period, condition, customer=customer)
        return _pay_for_bug_table(request, period, pay_for_bug)
    funnel = return_funnel(period, condition)
    if table == "returns":
        return _funnel_table(request, period, funnel.total)
    grouping = table.removeprefix("returns-by-")
    return _funnel_by_table(request, period, grouping, getattr(funnel, f"by_{grouping}"))


# --- the pages ----------------------------------------------------------------------------------


@login_required
@require_GET
@reads_from_replica
def money(request: HttpRequest) -> HttpResponse:
    form = report_filters(request)
    if form.is_bound and form.errors:
        return render(request, "insights/money.html", {"form": form}, status=400)
    table = request.GET.get("table", "")
    if chosen_format(request) and table not in TABLES:
        raise Http404("No such table: choose one of " + ", ".join(TABLES) + ".")
    period, condition = form.chosen_period(), form.ticket_filter()
    customer, kind = form.chosen("customer"), form.chosen("kind")
    today = timezone.localdate()
    if chosen_format(request):
        return _download(request, table, period, condition, today=today, customer=customer)
    overdue = overdue_customers(period, condition, today=today, customer=customer, limit=PAGE_ROWS)
    pay_for_bug = pay_for_bug_by_quarter(period, condition, customer=customer, limit=PAGE_ROWS)
    return render(
        request,
        "insights/money.html",
        {
            "form": form,
            "period": period,
            "today": today,
            "query": filter_query(request),
            "kinds": KINDS,
            "max_groups": MAX_GROUPS,
            "overdue": overdue,
            "overdue_bars": _bars(overdue.rows),
            "pay_for_bug": pay_for_bug,
            "pay_for_bug_charts": _quarter_charts(pay_for_bug),
            "chart_width": 10 * len(pay_for_bug.quarters),
            **_funnel_context(return_funnel(period, condition)),
            # A kind filter other than bugs (or returns) leaves that table nothing to count.
            "bugs_filtered_out": bool(kind) and kind != Ticket.Kind.BUG,
            "returns_filtered_out": bool(kind) and kind != Ticket.Kind.RMA,
        },
    )


def _bars(rows) -> list[dict]:
    most = max((row.amount for row in rows), default=0)
    return [{"row": row, "width": _width(row.amount, most)} for row in rows]


def _quarter_charts(table: PayForBugTable) -> list[dict]:
    # One scale for the whole table, so that the rows can be compared.
    most = max((count for row in table.rows for count in row.counts), default=0)
    return [{"row": row, "columns": _columns(row.counts, most)} for row in table.rows]


def _funnel_context(funnel) -> dict:
    total = funnel.total
    stages = []
    for stage in total.stages:
        width = _width(stage.reached, total.returns)
        # Centred, so that the bars narrow step by step as a funnel does.
        stages.append({"stage": stage, "width": width, "x": round((100 - width) / 2, 2)})

    def charts(rows):
        # Each row on its own scale (its returns requested): the shape of its funnel.
        return [
            {"row": row, "columns": _columns([s.reached for s in row.stages], row.returns)}
            for row in rows
        ]

    return {
        "funnel": total,
        "funnel_stages": stages,
        "by_product": charts(funnel.by_product),
        "by_reason": charts(funnel.by_reason),
        "timed_stages": [stage for stage in total.stages if stage.key in STAYS],
        "funnel_width": 10 * len(STAGES),
    }


@login_required
@require_GET
@reads_from_replica
def money_customer_tickets(request: HttpRequest, pk: int) -> HttpResponse:
    form = report_filters(request)
    if form.is_bound and form.errors:
        # As the report itself: a filter that cannot be read is refused, not quietly dropped.
        return render(request, "insights/money.html", {"form": form}, status=400)
    period = form.chosen_period()
    try:
        customer, tickets = customer_tickets_in(period, form.ticket_filter(), customer_id=pk)
    except Customer.DoesNotExist:
        raise Http404("No such customer.") from None
    if chosen_format(request):
        # One customer's tickets of one period: a short list, written while the browser waits.
        return table_response(
            request,
            f"tickets-{customer.pk}-{period.first}-{period.last}",
            ["ticket", "subject", "kind", "status", "product", "created"],
            (
                [
                    t.reference,
                    t.subject,
                    t.get_kind_display(),
                    t.get_status_display(),
                    t.product,
                    timezone.localdate(t.created_at).isoformat(),
                ]
                for t in tickets.iterator()
            ),
        )
    return render(
        request,
        "insights/money_customer_tickets.html",
        {
            "customer": customer,
            "period": period,
            "tickets": tickets[:500],
            "count": tickets.count(),
            "query": filter_query(request),
        },
    )


urlpatterns = [
    path("insights/money/", money, name="insights-money"),
    path(
        "insights/money/customers/<int:pk>/",
        money_customer_tickets,
        name="insights-money-customer-tickets",
    ),
]
