"""The monthly root-cause digest: each department that owns a root cause hears, by email, of
the problems of its causes in the last calendar month and how they moved.

It reads what the report reads (``insights.selectors.root_causes.resolved_in``) and writes only
staff emails through ``deliveries``. Each email is keyed by month, department and recipient, so
the hourly sweep, run again or twice at once, stores each once; a department with any email of
the month stored is done for that month, even if its members change afterwards.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Department, Membership
from deliveries.email_text import email_text
from deliveries.staff_emails import (
    keys_stored,
    site_link,
    staff_email_row,
    staff_emails_send_on_commit,
)
from insights.filters import Period, period_for
from insights.selectors.root_causes import resolved_in, root_cause_departments
from routing.engine.rows import insert_or_get
from tickets.models import Ticket

TREND_MONTHS = 6  # the months of the trend line, the digest's month last
TOP_PRODUCTS = 3
EXAMPLES = 5


@dataclass
class CauseFigures:
    """One root cause a department owns, in the digest's month."""

    root_cause: str
    label: str
    count: int
    share: float  # of all tickets resolved in the month, 0 to 1
    previous: int  # in the calendar month before
    trend: list[int]  # per month, oldest first, the digest's month last
    products: list[tuple[str, int]] = field(default_factory=list)  # most tickets first
    examples: list[dict] = field(default_factory=list)  # the latest resolved first
    link: str = ""  # the cause's tickets of the month, on the report

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def share_text(self) -> str:
        return f"{self.share * 100:.1f}%"

    @property
    def change_text(self) -> str:
        return f"{self.change:+d}" if self.change else "no change"

    @property
    def trend_text(self) -> str:
        return " → ".join(str(count) for count in self.trend)


@dataclass
class Digest:
    department: Department
    month: Period
    months: list[Period]  # of the trend, oldest first
    total: int  # every ticket resolved in the month, whoever owns its cause
    causes: list[CauseFigures]
    report_link: str

    @property
    def count(self) -> int:
        return sum(cause.count for cause in self.causes)

    @property
    def month_before(self) -> Period:
        return self.months[-2]


def _month_before(month: Period) -> Period:
    last = month.first - timedelta(days=1)
    return Period(last.replace(day=1), last)


def digest_month(now: datetime) -> Period | None:
    """The month whose digest is due at ``now``: the last calendar month, from
    INSIGHTS_DIGEST_DAY at INSIGHTS_DIGEST_HOUR (company time) until the month ends, so a
    sweep missed on the day (beat stopped, a deployment) still sends it later; None before."""
    local = timezone.localtime(now)
    if (local.day, local.hour) < (settings.INSIGHTS_DIGEST_DAY, settings.INSIGHTS_DIGEST_HOUR):
        return None
    return period_for("month", today=local.date(), first=None, last=None)


def _monthly_counts(months: list[Period]) -> dict[tuple[str, date], int]:
    """Resolved tickets per (root cause, first day of the month), in one query; months are the
    company's, so a ticket resolved at 23:30 local time on the last day is that month's."""
    window = Period(months[0].first, months[-1].last)
    rows = (
        resolved_in(window, Q())
        .annotate(month=TruncMonth("resolved_at"))
        .values("root_cause", "month")
        .annotate(n=Count("id"))
    )
    return {(row["root_cause"], timezone.localtime(row["month"]).date()): row["n"] for row in rows}


def _month_query(month: Period) -> str:
    return urlencode({"period": "custom", "start": month.first, "end": month.last})


def _cause_details(figures: CauseFigures, month: Period) -> None:
    """The top products and the example tickets of a cause in the month."""
    tickets = resolved_in(month, Q(root_cause=figures.root_cause))
    figures.products = [
        (row["product"], row["n"])
        for row in tickets.values("product")
        .annotate(n=Count("id"))
        .order_by("-n", "product")[:TOP_PRODUCTS]
    ]
    figures.examples = [
        {
            "reference": ticket.reference,
            "subject": ticket.subject,
            "link": site_link(reverse("ticket-page", args=[ticket.pk])),
        }
        for ticket in tickets.order_by("-resolved_at", "-id")[:EXAMPLES]
    ]
    figures.link = site_link(
        f"{reverse('insights-root-cause-tickets', args=[figures.root_cause])}?{_month_query(month)}"
    )


def department_digests(month: Period, owners: dict[str, Department] | None = None) -> list[Digest]:
    """The digest of each department that owns a root cause with a ticket resolved in
    ``month``, by department; ``owners`` (of ``root_cause_departments``) may leave some out.
    A department whose causes had none that month gets no digest: an email saying nothing
    happened would teach people to skim the one that says something did."""
    months = [month]
    while len(months) < TREND_MONTHS:
        months.insert(0, _month_before(months[0]))
    counts = _monthly_counts(months)
    total = sum(n for (_, first), n in counts.items() if first == month.first)
    labels = dict(Ticket.RootCause.choices)
    owned: dict[int, list[str]] = {}
    by_pk: dict[int, Department] = {}
    for cause, department in (root_cause_departments() if owners is None else owners).items():
        owned.setdefault(department.pk, []).append(cause)
        by_pk[department.pk] = department
    digests = []
    for pk in sorted(owned):
        causes = []
        for cause in owned[pk]:
            trend = [counts.get((cause, m.first), 0) for m in months]
            count, previous = trend[-1], trend[-2]
            # As the report: a cause with none now and none the month before says nothing.
            if count or previous:
                causes.append(
                    CauseFigures(
                        root_cause=cause,
                        label=labels.get(cause, cause),
                        count=count,
                        share=count / total if total else 0.0,
                        previous=previous,
                        trend=trend,
                    )
                )
        if not any(figures.count for figures in causes):
            continue
        causes.sort(key=lambda figures: (-figures.count, figures.label))
        for figures in causes:
            if figures.count:
                _cause_details(figures, month)
        digests.append(
            Digest(
                department=by_pk[pk],
                month=month,
                months=months,
                total=total,
                causes=causes,
                report_link=site_link(f"{reverse('insights-root-causes')}?{_month_query(month)}"),
            )
        )
    return digests


def _recipients(departments: list[Department]) -> dict[int, list[tuple[str, str]]]:
    """Per department, (key suffix, address): its shared mailbox when it has one, else each
    active member with an address who has not asked for no email."""
    members = (
        Membership.objects.filter(department__in=departments, user__is_active=True)
        .exclude(email_preference=Membership.EmailPreference.NONE)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id")
    )
    people: dict[int, list[tuple[str, str]]] = {}
    for member in members:
        people.setdefault(member.department_id, []).append(
            (f"user:{member.user_id}", member.user.email)
        )
    return {
        department.pk: (
            [("shared", department.email)] if department.email else people.get(department.pk, [])
        )
        for department in departments
    }


def _key_prefix(month: Period) -> str:
    return f"root-causes:{month.first:%Y-%m}:department:"


@transaction.atomic
def _store(digest: Digest, recipients: list[tuple[str, str]]) -> int:
    """Store a department's emails, all or none; those new are sent once this commits."""
    context = {"digest": digest}
    subject, body = email_text("root_cause_digest", context)
    html = render_to_string("email/root_cause_digest.html", context)
    prefix = f"{_key_prefix(digest.month)}{digest.department.pk}:"
    rows = []
    for suffix, address in recipients:
        row = staff_email_row(key=prefix + suffix, recipient=address, subject=subject, body=body)
        if row is not None:
            row.html_body = html
            rows.append(row)
    if not rows:
        return 0
    # One statement for the department's emails: a run at the same moment waits on the unique
    # keys, then finds them taken and sends none of them again.
    created = [row.pk for row, new in insert_or_get(rows, unique=("key",)) if new]
    staff_emails_send_on_commit().extend(created)
    return len(created)


def root_cause_digests_send(*, now: datetime | None = None) -> int:
    """Once a month, when ``digest_month`` says it is due: the digest of the last calendar
    month to each department that owns a cause with a ticket in it, once per department and
    month. Returns how many emails were stored."""
    month = digest_month(now or timezone.now())
    if month is None:
        return 0
    # The sweep runs every hour: once the month's digests are stored, a run costs these three
    # queries (the keys, the departments, the owners) and no more.
    done = {int(key.split(":")[3]) for key in keys_stored(_key_prefix(month))}
    waiting = {
        cause: dept for cause, dept in root_cause_departments().items() if dept.pk not in done
    }
    if not waiting:
        return 0
    digests = department_digests(month, waiting)
    recipients = _recipients([digest.department for digest in digests])
    return sum(_store(digest, recipients[digest.department.pk]) for digest in digests)
