"""Sales and satisfaction: the follow-ups salespeople owe and what came of them, NPS with its
margin of error by product and root cause, and how quickly detractors were called back.

Every figure is one aggregate query in PostgreSQL (GROUP BY, filtered counts and sums): the
number of queries and of rows read back does not grow with the data. ``condition`` is the
report's filter on the ticket a follow-up or a survey is about
(``ReportFilterForm.ticket_filter("ticket__")``); both point at it as ``ticket``."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    Case,
    Count,
    DateField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate

from helpdesk.calendar import add_working_days
from insights.filters import Period
from queues.models import FollowUpTask
from surveys.models import Survey
from surveys.selectors import Nps
from tickets.models import Ticket, TicketEvent

# Fewer answers than this and an NPS is shown as too few to read: its margin of error is then
# typically wider than ±45 points, more than most differences anyone would act on.
MIN_ANSWERS = 10
# The promise of the starter rule "Detractors: the salesperson calls within two working days".
DETRACTOR_FOLLOWUP_WORKING_DAYS = 2

Status = FollowUpTask.Status
Outcome = FollowUpTask.Outcome
# The outcomes that close a follow-up; "no answer" keeps it open and is counted as calls.
CLOSING_OUTCOMES = (Outcome.SATISFIED, Outcome.NOT_SATISFIED, Outcome.UPSELL)


# --- Follow-ups per salesperson -------------------------------------------------------------


@dataclass
class FollowUpRow:
    """The follow-ups created for one salesperson in the period, by where they stand now."""

    salesperson_id: int | None  # None on the total row
    name: str
    created: int = 0
    on_time: int = 0  # done on or before the day it was due (company's date)
    late: int = 0  # done after it
    overdue: int = 0  # open, due before today
    not_due: int = 0  # open, due today or later
    cancelled: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # per closing outcome
    unanswered_calls: int = 0  # calls recorded without an answer (each rescheduled it)
    upsell_value: Decimal = Decimal("0.00")  # Σ estimated value of its up-sells


FOLLOWUP_COUNTS = ("created", "on_time", "late", "overdue", "not_due", "cancelled")


def followups_by_salesperson(period: Period, condition: Q, *, today: date) -> list[FollowUpRow]:
    """Per salesperson with any, the follow-ups created in the period (whatever made them) on
    tickets that match: done on time, done late, open and overdue today, open and not yet due,
    cancelled; the outcome of those done; calls without an answer; the Σ of the up-sells'
    estimated value. Ordered by name: this says what is owed, it does not rank anyone. One
    query."""
    start, end = period.bounds()
    # The day a follow-up was done is the company's (the `__date` transform reads the current
    # time zone), so one done at 23:30 on the day it was due is on time.
    done = Q(status=Status.DONE)
    counts = {
        "created": Count("id"),
        "on_time": Count("id", filter=done & Q(completed_at__date__lte=F("due_on"))),
        "late": Count("id", filter=done & Q(completed_at__date__gt=F("due_on"))),
        "overdue": Count("id", filter=Q(status=Status.OPEN, due_on__lt=today)),
        "not_due": Count("id", filter=Q(status=Status.OPEN, due_on__gte=today)),
        "cancelled": Count("id", filter=Q(status=Status.CANCELLED)),
        **{
            f"outcome_{outcome}": Count("id", filter=done & Q(outcome=outcome))
            for outcome in CLOSING_OUTCOMES
        },
        "unanswered_calls": Sum("attempts", default=0),
        "upsell_value": Sum(
            "upsell_value", filter=done & Q(outcome=Outcome.UPSELL), default=Decimal("0")
        ),
    }
    groups = (
        FollowUpTask.objects.filter(condition, created_at__gte=start, created_at__lt=end)
        .values(
            "salesperson_id",
            "salesperson__username",
            "salesperson__first_name",
            "salesperson__last_name",
        )
        .annotate(**counts)
        .order_by("salesperson_id")
    )
    rows = []
    for group in groups:
        full_name = f"{group['salesperson__first_name']} {group['salesperson__last_name']}"
        rows.append(
            FollowUpRow(
                salesperson_id=group["salesperson_id"],
                name=full_name.strip() or group["salesperson__username"],
                **{name: group[name] for name in FOLLOWUP_COUNTS},
                outcomes={outcome: group[f"outcome_{outcome}"] for outcome in CLOSING_OUTCOMES},
                unanswered_calls=group["unanswered_calls"],
                upsell_value=group["upsell_value"],
            )
        )
    return sorted(rows, key=lambda row: (row.name.casefold(), row.salesperson_id))


def followups_total(rows: list[FollowUpRow]) -> FollowUpRow:
    """The sum of the rows (one per salesperson, so a handful)."""
    total = FollowUpRow(salesperson_id=None, name="All salespeople")
    total.outcomes = dict.fromkeys(CLOSING_OUTCOMES, 0)
    for row in rows:
        for name in (*FOLLOWUP_COUNTS, "unanswered_calls", "upsell_value"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        for outcome, count in row.outcomes.items():
            total.outcomes[outcome] += count
    return total


# --- NPS ------------------------------------------------------------------------------------


@dataclass
class NpsRow:
    """The NPS of one group of answers (a product, a root cause, or all of them)."""

    group: str
    nps: Nps

    @property
    def readable(self) -> bool:
        return self.nps.answers >= MIN_ANSWERS


@dataclass
class NpsReport:
    overall: NpsRow
    by_product: list[NpsRow]
    by_root_cause: list[NpsRow]


def answered_in(period: Period, condition: Q):
    """Surveys first answered within the period (company's days) on tickets that match, as
    `surveys.selectors.customer_surveys` reads them: answered, with a score. The score is the
    latest answer (a customer may change it for a while)."""
    start, end = period.bounds()
    return Survey.objects.filter(
        condition,
        status=Survey.Status.ANSWERED,
        score__isnull=False,
        answered_at__gte=start,
        answered_at__lt=end,
    )


CATEGORIES = ("answers", "promoters", "passives", "detractors")


def _nps_rows(counts: dict[str, list[int]], labels: dict[str, str]) -> list[NpsRow]:
    """One row per group, largest first."""
    rows = [
        NpsRow(
            group=labels.get(key, key) or "(none)",
            nps=Nps(**dict(zip(CATEGORIES, numbers, strict=True))),
        )
        for key, numbers in counts.items()
    ]
    return sorted(rows, key=lambda row: (-row.nps.answers, row.group.casefold()))


def nps_report(period: Period, condition: Q) -> NpsReport:
    """NPS of the surveys answered in the period, overall and by the ticket's product and root
    cause, each with its answers, the three categories and the margin of error at 95%
    (`surveys.selectors.Nps`). One query, counting per product and root cause together (as
    many rows as there are pairs of them, however many answers), added up here: the tickets
    are read once rather than once per grouping."""
    pairs = (
        answered_in(period, condition)
        .values("ticket__product", "ticket__root_cause")
        .annotate(
            answers=Count("id"),
            promoters=Count("id", filter=Q(score__gte=9)),
            passives=Count("id", filter=Q(score__gte=7, score__lte=8)),
            detractors=Count("id", filter=Q(score__lte=6)),
        )
        .order_by()
    )
    overall = [0, 0, 0, 0]
    products: dict[str, list[int]] = {}
    causes: dict[str, list[int]] = {}
    for pair in pairs:
        numbers = [pair[name] for name in CATEGORIES]
        for sums in (
            overall,
            products.setdefault(pair["ticket__product"], [0, 0, 0, 0]),
            causes.setdefault(pair["ticket__root_cause"], [0, 0, 0, 0]),
        ):
            for index, number in enumerate(numbers):
                sums[index] += number
    return NpsReport(
        overall=NpsRow(group="All answers", nps=Nps(**dict(zip(CATEGORIES, overall, strict=True)))),
        by_product=_nps_rows(products, {}),
        by_root_cause=_nps_rows(causes, dict(Ticket.RootCause.choices)),
    )


# --- Detractors followed up -----------------------------------------------------------------


class _ArrayItem(Func):
    """``array[index]`` in PostgreSQL (the first item is 1)."""

    def as_sql(
        self, compiler, connection, function=None, template=None, arg_joiner=None, **extra_context
    ):
        array, index = self.get_source_expressions()
        array_sql, array_params = compiler.compile(array)
        index_sql, index_params = compiler.compile(index)
        return f"({array_sql})[{index_sql}]", [*array_params, *index_params]


class _DaysBetween(Func):
    """``later - earlier`` for two dates, in whole days (PostgreSQL's date subtraction)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


# The states of a detractor's follow-up, best first: when an answer led to several follow-ups
# (a changed answer is a new event), the best one counts.
WITHIN, LATER, WAITING, NONE = 1, 2, 3, 4
DETRACTOR_STATES = {
    WITHIN: f"Done within {DETRACTOR_FOLLOWUP_WORKING_DAYS} working days",
    LATER: "Done later",
    WAITING: "Follow-up open",
    NONE: "No follow-up",
}


@dataclass
class DetractorState:
    state: int
    label: str
    count: int
    share: float  # of the period's detractors, 0 to 1


@dataclass
class DetractorFollowUps:
    detractors: int
    states: list[DetractorState]  # every state, in DETRACTOR_STATES order

    @property
    def within(self) -> int:
        return self.states[0].count

    @property
    def within_share(self) -> float | None:
        return self.within / self.detractors if self.detractors else None


def deadlines(period: Period) -> list[date]:
    """For each day of the period, the last day a follow-up of an answer given that day is in
    time: DETRACTOR_FOLLOWUP_WORKING_DAYS working days after it (the day of the answer never
    counts, as for the follow-up's own due date). One date per day of the period, however many
    answers."""
    days = (period.first + timedelta(days=offset) for offset in range(period.days))
    return [add_working_days(day, DETRACTOR_FOLLOWUP_WORKING_DAYS) for day in days]


def detractor_followups(period: Period, condition: Q) -> DetractorFollowUps:
    """The detractors (0 to 6) answered in the period, by what became of the follow-up made of
    their answer (the link `surveys.selectors.survey_followups` reads: a follow-up from the
    survey's `survey.answered` event): done by the end of the second working day after the day
    of the answer (on the company calendar, holidays included), done later, still open, or none
    made (no rule made one, or the customer has no salesperson, or it was cancelled). One query
    returning at most four rows; each detractor is looked at once, through an index."""
    first = Value(period.first, output_field=DateField())
    # The detractor's deadline, from one date per day of the period.
    deadline = _ArrayItem(
        Cast(Value(deadlines(period)), ArrayField(DateField())),
        _DaysBetween(TruncDate("answered_at"), first) + 1,
        output_field=DateField(),
    )
    made_of_answer = (
        FollowUpTask.objects.filter(
            ticket_id=OuterRef("ticket_id"), event__type=TicketEvent.Type.SURVEY_ANSWERED
        )
        .annotate(survey_id=Cast(KeyTextTransform("id", "event__changes__survey"), IntegerField()))
        .filter(survey_id=OuterRef("pk"))
    )
    best = (
        made_of_answer.annotate(
            state=Case(
                When(
                    status=Status.DONE,
                    completed_at__date__lte=OuterRef("deadline"),
                    then=Value(WITHIN),
                ),
                When(status=Status.DONE, then=Value(LATER)),
                When(status=Status.OPEN, then=Value(WAITING)),
                default=Value(NONE),
            )
        )
        .order_by("state")
        .values("state")[:1]
    )
    groups = (
        answered_in(period, condition)
        .filter(score__lte=6)
        .annotate(deadline=deadline)
        .annotate(state=Coalesce(Subquery(best, output_field=IntegerField()), Value(NONE)))
        .values("state")
        .annotate(count=Count("id"))
        .order_by("state")
    )
    counts = {group["state"]: group["count"] for group in groups}
    total = sum(counts.values())
    return DetractorFollowUps(
        detractors=total,
        states=[
            DetractorState(
                state=state,
                label=label,
                count=counts.get(state, 0),
                share=counts.get(state, 0) / total if total else 0.0,
            )
            for state, label in DETRACTOR_STATES.items()
        ],
    )
