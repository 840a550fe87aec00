"""Everything the company knows of one customer, read for its page."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from accounts.models import Customer, Invoice, User
from accounts.selectors import (
    CustomerStanding,
    contract_state,
    customers_with_standing,
    standing_from_annotated,
)
from queues.models import FollowUpTask
from surveys.selectors import Nps, customer_surveys, nps_of
from tickets.models import Ticket, TimelineEntry

RECENT_REP_DAYS = 90
TREND_QUARTERS = 4


@dataclass
class QuarterNps:
    label: str
    nps: Nps


@dataclass
class CustomerOverview:
    customer: Customer
    standing: CustomerStanding
    contract: str
    contacts: list
    invoices: list[Invoice]
    tickets: list[Ticket]
    open_ticket_count: int
    followups_open: list[FollowUpTask]
    followups_done: list[FollowUpTask]
    upsells: list[FollowUpTask]
    upsell_total: Decimal
    surveys: list
    nps: Nps
    nps_trend: list[QuarterNps]
    recent_reps: list[tuple[User, int]]


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _previous_quarter(start: date) -> date:
    return _quarter_start(start - timedelta(days=1))


def nps_by_quarter(surveys, *, today: date, quarters: int = TREND_QUARTERS) -> list[QuarterNps]:
    """NPS per calendar quarter (company time zone), oldest first, the current one last."""
    starts = [_quarter_start(today)]
    for _ in range(quarters - 1):
        starts.insert(0, _previous_quarter(starts[0]))
    scores: dict[date, list[int]] = {start: [] for start in starts}
    for survey in surveys:
        start = _quarter_start(timezone.localdate(survey.answered_at))
        if start in scores:
            scores[start].append(survey.score)
    return [
        QuarterNps(label=f"Q{(start.month - 1) // 3 + 1} {start.year}", nps=nps_of(scores[start]))
        for start in starts
    ]


def customer_overview(*, customer_id: int) -> CustomerOverview:
    today = timezone.localdate()
    customer = (
        customers_with_standing(today=today).select_related("salesperson").get(pk=customer_id)
    )
    tickets = list(
        Ticket.objects.filter(customer=customer)
        .select_related("contact", "assignee")
        .order_by("-created_at", "-id")[:100]
    )
    followups = list(
        FollowUpTask.objects.filter(customer=customer)
        .select_related("ticket", "salesperson")
        .order_by("-created_at", "-id")[:100]
    )
    upsells = [task for task in followups if task.outcome == FollowUpTask.Outcome.UPSELL]
    total = FollowUpTask.objects.filter(
        customer=customer, outcome=FollowUpTask.Outcome.UPSELL
    ).aggregate(total=Sum("upsell_value"))["total"]
    surveys = customer_surveys(customer_id=customer.pk)
    since = timezone.now() - timedelta(days=RECENT_REP_DAYS)
    authors = Counter(
        TimelineEntry.objects.filter(
            ticket__customer=customer, created_at__gte=since, author__isnull=False
        ).values_list("author_id", flat=True)
    )
    people = User.objects.in_bulk(list(authors))
    return CustomerOverview(
        customer=customer,
        standing=standing_from_annotated(customer, today),
        contract=contract_state(customer, today=today),
        contacts=list(customer.contacts.order_by("name")),
        invoices=list(customer.invoices.order_by("-issued_on", "number")[:50]),
        tickets=tickets,
        open_ticket_count=Ticket.objects.filter(
            customer=customer, status__in=Ticket.OPEN_STATUSES
        ).count(),
        followups_open=[t for t in followups if t.status == FollowUpTask.Status.OPEN],
        followups_done=[t for t in followups if t.status == FollowUpTask.Status.DONE],
        upsells=upsells,
        upsell_total=total or Decimal("0"),
        surveys=surveys,
        nps=nps_of(survey.score for survey in surveys),
        nps_trend=nps_by_quarter(surveys, today=today),
        recent_reps=[
            (people[user_id], count)
            for user_id, count in authors.most_common(6)
            if user_id in people and people[user_id].pk != customer.salesperson_id
        ][:5],
    )
