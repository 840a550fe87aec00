"""The root-cause report: resolved tickets by root cause, and who causes each."""

from dataclasses import dataclass

from django.db.models import Count, Q

from accounts.models import Department
from insights.filters import Period
from insights.models import DEFAULT_OWNERS, RootCauseOwner
from tickets.models import Ticket


@dataclass
class RootCauseRow:
    root_cause: str
    label: str
    owner: str  # the department that creates such problems ("" when none is set)
    count: int
    share: float  # of the period's resolved tickets, 0 to 1
    cumulative: float  # the Pareto line: this cause and all larger ones
    previous: int  # in the period before, of the same length
    change: int  # count - previous


def resolved_in(period: Period, condition: Q):
    """Tickets resolved (or closed) within the period, by when they were resolved. A ticket
    reopened and resolved again counts once, with the root cause it has now."""
    start, end = period.bounds()
    return Ticket.objects.filter(
        condition,
        status__in=Ticket.DONE_STATUSES,
        resolved_at__gte=start,
        resolved_at__lt=end,
    ).exclude(root_cause="")


def root_cause_departments() -> dict[str, Department]:
    """Per root cause, the department that creates such problems (causes nobody owns are left
    out): as edited in the admin, else the default in code."""
    by_slug = {department.slug: department for department in Department.objects.all()}
    owners = {cause: by_slug[slug] for cause, slug in DEFAULT_OWNERS.items() if slug in by_slug}
    for owner in RootCauseOwner.objects.select_related("department"):
        if owner.department is None:
            owners.pop(owner.root_cause, None)
        else:
            owners[owner.root_cause] = owner.department
    return owners


def root_cause_owners() -> dict[str, str]:
    """Per root cause, the name of the department that creates such problems ("" for none)."""
    return {cause: department.name for cause, department in root_cause_departments().items()}


def _counts(period: Period, condition: Q) -> dict[str, int]:
    rows = resolved_in(period, condition).values("root_cause").annotate(n=Count("id"))
    return {row["root_cause"]: row["n"] for row in rows}


def root_cause_pareto(period: Period, condition: Q) -> list[RootCauseRow]:
    """Resolved tickets by root cause, largest first, with each cause's share, the running
    share, and the change against the period before. Causes with none in either period are
    left out."""
    now, before = _counts(period, condition), _counts(period.previous(), condition)
    owners = root_cause_owners()
    labels = dict(Ticket.RootCause.choices)
    total = sum(now.values())
    causes = sorted(
        set(now) | set(before), key=lambda cause: (-now.get(cause, 0), labels.get(cause, cause))
    )
    rows, running = [], 0
    for cause in causes:
        count = now.get(cause, 0)
        running += count
        rows.append(
            RootCauseRow(
                root_cause=cause,
                label=labels.get(cause, cause),
                owner=owners.get(cause, ""),
                count=count,
                share=count / total if total else 0.0,
                cumulative=running / total if total else 0.0,
                previous=before.get(cause, 0),
                change=count - before.get(cause, 0),
            )
        )
    return rows
