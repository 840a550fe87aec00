"""Sales and satisfaction: the follow-ups salespeople owe and what came of them, NPS with its
margin of error by product and root cause, and how many detractors were called back within two
working days. Each table downloads (CSV or Excel) from the page's own address with
``format`` and ``table``."""

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from helpdesk.db_routers import reads_from_replica
from insights.export import chosen_format, table_response
from insights.filters import Period
from insights.selectors.sales import (
    CLOSING_OUTCOMES,
    DETRACTOR_FOLLOWUP_WORKING_DAYS,
    MIN_ANSWERS,
    detractor_followups,
    followups_by_salesperson,
    followups_total,
    nps_report,
)
from insights.views.common import filter_query, report_filters
from queues.models import FollowUpTask

OUTCOME_LABELS = [(outcome, FollowUpTask.Outcome(outcome).label) for outcome in CLOSING_OUTCOMES]
# The parts of a salesperson's bar, in the order they are drawn (and their CSS classes).
FOLLOWUP_PARTS = ("on_time", "late", "overdue", "not_due", "cancelled")
CENTS = Decimal("0.01")


def _followup_bars(rows) -> list[dict]:
    """Each row with its stacked bar: the follow-ups created, in parts, against the largest."""
    most = max((row.created for row in rows), default=0)
    bars = []
    for row in rows:
        x, parts = 0.0, []
        for name in FOLLOWUP_PARTS:
            width = round(100 * getattr(row, name) / most, 1) if most else 0
            if width:
                parts.append({"name": name, "x": x, "width": width})
            x = round(x + width, 1)
        bars.append({"row": row, "parts": parts})
    return bars


def _nps_bar(row) -> dict:
    """A bar from the middle (NPS 0) to the score, on a scale of -100 to 100, and the margin
    of error as a line either side of its end, clipped to the scale."""
    score, margin = row.nps.score, row.nps.margin
    if score is None or not row.readable:
        return {"row": row, "show": False}
    middle, end = 100, 100 + score
    return {
        "row": row,
        "show": True,
        "x": min(middle, end),
        "width": abs(score),
        "low": max(end - margin, 0),
        "high": min(end + margin, 200),
        "negative": score < 0,
    }


def _nps_sections(report) -> list[dict]:
    return [
        {"title": "Overall", "rows": [_nps_bar(report.overall)]},
        {"title": "By product", "rows": [_nps_bar(row) for row in report.by_product]},
        {"title": "By root cause", "rows": [_nps_bar(row) for row in report.by_root_cause]},
    ]


def _detractor_parts(followed) -> list[dict]:
    x, parts = 0.0, []
    for state in followed.states:
        width = round(100 * state.share, 1)
        if width:
            parts.append({"state": state.state, "x": x, "width": width})
        x = round(x + width, 1)
    return parts


@login_required
@require_GET
@reads_from_replica
def sales(request: HttpRequest) -> HttpResponse:
    """The report, or one of its tables as a download (``format``, ``table``)."""
    form = report_filters(request)
    if form.is_bound and form.errors:
        return render(request, "insights/sales.html", {"form": form}, status=400)
    period = form.chosen_period()
    # Follow-ups and surveys both count by the ticket they are about.
    condition = form.ticket_filter("ticket__")
    if chosen_format(request):
        table = request.GET.get("table") or "followups"
        if table not in TABLES:
            raise Http404("No such table.")
        return TABLES[table](request, period, condition)
    today = timezone.localdate()
    rows = followups_by_salesperson(period, condition, today=today)
    report = nps_report(period, condition)
    followed = detractor_followups(period, condition)
    return render(
        request,
        "insights/sales.html",
        {
            "form": form,
            "period": period,
            "today": today,
            "followup_bars": _followup_bars(rows),
            "total": followups_total(rows),
            "outcomes": OUTCOME_LABELS,
            "nps": report,
            "nps_sections": _nps_sections(report),
            "min_answers": MIN_ANSWERS,
            "followed": followed,
            "detractor_parts": _detractor_parts(followed),
            "working_days": DETRACTOR_FOLLOWUP_WORKING_DAYS,
            "query": filter_query(request),
        },
    )


def _followups_table(request: HttpRequest, period: Period, condition: Q) -> HttpResponse:
    rows = followups_by_salesperson(period, condition, today=timezone.localdate())
    return table_response(
        request,
        f"sales-followups-{period.first}-{period.last}",
        [
            "salesperson",
            "created",
            "done on time",
            "done late",
            "open, overdue",
            "open, not yet due",
            "cancelled",
            *[label.lower() for _, label in OUTCOME_LABELS],
            "calls without answer",
            "up-sell value",
        ],
        (
            [
                row.name,
                row.created,
                row.on_time,
                row.late,
                row.overdue,
                row.not_due,
                row.cancelled,
                *[row.outcomes[outcome] for outcome, _ in OUTCOME_LABELS],
                row.unanswered_calls,
                row.upsell_value.quantize(CENTS),
            ]
            for row in rows
        ),
    )


def _nps_table(request: HttpRequest, period: Period, condition: Q) -> HttpResponse:
    report = nps_report(period, condition)
    groups = [
        ("all", [report.overall]),
        ("product", report.by_product),
        ("root cause", report.by_root_cause),
    ]
    return table_response(
        request,
        f"sales-nps-{period.first}-{period.last}",
        ["by", "group", "answers", "promoters", "passives", "detractors"]
        + ["NPS", "margin ±", "note"],
        (
            [
                by,
                row.group,
                row.nps.answers,
                row.nps.promoters,
                row.nps.passives,
                row.nps.detractors,
                row.nps.score,
                row.nps.margin,
                "" if row.readable else f"fewer than {MIN_ANSWERS} answers: too few to read",
            ]
            for by, rows in groups
            for row in rows
        ),
    )


def _detractors_table(request: HttpRequest, period: Period, condition: Q) -> HttpResponse:
    followed = detractor_followups(period, condition)
    return table_response(
        request,
        f"sales-detractors-{period.first}-{period.last}",
        ["follow-up", "detractors", "share %"],
        ([state.label, state.count, round(state.share * 100, 1)] for state in followed.states),
    )


TABLES = {"followups": _followups_table, "nps": _nps_table, "detractors": _detractors_table}


urlpatterns = [
    path("insights/sales/", sales, name="insights-sales"),
]
