"""Money and shipping: the customers who owe money and still call, the bugs pay-for-bug
customers report each quarter, and how returns move through shipping's steps.

Each table is a few aggregate queries, whatever the number of tickets, invoices or customers."""

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connections
from django.db.models import Case, Count, F, Min, Q, Sum, Value, When, Window
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Lead, Lower, Trim, TruncQuarter
from django.utils import timezone

from accounts.models import Customer
from accounts.selectors import amount_from_sum, overdue_invoices
from insights.aggregates import in_database
from insights.filters import Period
from tickets.models import Ticket, TimelineEntry
from tickets.returns import RMA_STEP_ORDER

KINDS = list(Ticket.Kind.choices)

# --- customers with overdue invoices ------------------------------------------------------------


@dataclass
class OverdueRow:
    customer_id: int
    name: str
    is_internal: bool
    salesperson: str  # username, "" when none
    invoices: int  # overdue today
    amount: Decimal  # overdue today
    oldest_due_on: date
    days_overdue: int  # of the oldest overdue invoice, today
    tickets: int  # created in the period (with the filters)
    by_kind: list[int]  # the same, per kind in the order of KINDS


@dataclass
class OverdueTable:
    rows: list[OverdueRow]  # the largest amounts first, as many as asked for
    customers: int  # all the customers with an overdue invoice
    amount: Decimal  # all they owe overdue


def overdue_customers(
    period: Period,
    condition: Q,
    *,
    today: date,
    customer: Customer | None = None,
    limit: int | None = None,
) -> OverdueTable:
    """Customers with an invoice overdue today (unpaid, due before today, as the customer's
    standing everywhere else defines it), largest amount first (``limit`` of them at most,
    with the totals of all), with the tickets they opened in the period by kind. The
    invoices are today's; the period and the ticket filters only decide which tickets are
    counted. Only the overdue invoices are aggregated (not every invoice of every customer
    who owes, as the full standing would): the customers shown, the totals of all when
    only some are shown, then the tickets of those shown."""
    owing = overdue_invoices(today=today)
    if customer is not None:
        owing = owing.filter(customer=customer)
    grouped = (
        owing.values(
            "customer_id",
            "customer__name",
            "customer__is_internal",
            "customer__salesperson__username",
        )
        .annotate(invoices=Count("id"), amount=Sum("amount"), oldest_due_on=Min("due_on"))
        .order_by("-amount", "customer__name", "customer_id")
    )
    shown = list(grouped if limit is None else grouped[:limit])
    if limit is None:
        total = {"customers": len(shown), "amount": sum(row["amount"] for row in shown)}
    else:  # the totals of all, without reading every row
        total = owing.aggregate(customers=Count("customer", distinct=True), amount=Sum("amount"))
    start, end = period.bounds()
    counts: dict[tuple[int, str], int] = {
        (row["customer_id"], row["kind"]): row["n"]
        for row in Ticket.objects.filter(
            condition,
            customer_id__in=[row["customer_id"] for row in shown],
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("customer_id", "kind")
        .annotate(n=Count("id"))
        .order_by()
    }
    rows = []
    for row in shown:
        by_kind = [counts.get((row["customer_id"], kind), 0) for kind, _ in KINDS]
        rows.append(
            OverdueRow(
                customer_id=row["customer_id"],
                name=row["customer__name"],
                is_internal=row["customer__is_internal"],
                salesperson=row["customer__salesperson__username"] or "",
                invoices=row["invoices"],
                amount=amount_from_sum(row["amount"]),
                oldest_due_on=row["oldest_due_on"],
                days_overdue=(today - row["oldest_due_on"]).days,
                tickets=sum(by_kind),
                by_kind=by_kind,
            )
        )
    return OverdueTable(rows, total["customers"], amount_from_sum(total["amount"] or 0))


def customer_tickets_in(period: Period, condition: Q, *, customer_id: int):
    """The customer, and its tickets created in the period with the filters, newest first.
    ``Customer.DoesNotExist`` when there is no such customer."""
    customer = Customer.objects.get(pk=customer_id)
    start, end = period.bounds()
    tickets = (
        Ticket.objects.filter(
            condition, customer=customer, created_at__gte=start, created_at__lt=end
        )
        .defer("search_text", "search_vector", "description")
        .order_by("-created_at", "-id")
    )
    return customer, tickets


# --- pay-for-bug customers' bugs per quarter ----------------------------------------------------


@dataclass(frozen=True)
class Quarter:
    start: date  # the quarter's first day
    first: date  # the first day of it within the period
    last: date  # the last day of it within the period

    @property
    def label(self) -> str:
        return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"

    @property
    def partial(self) -> bool:
        return self.first != self.start or self.last != _next_quarter(self.start) - timedelta(1)

    @property
    def heading(self) -> str:
        """The label, with the days counted when the period holds only part of the quarter."""
        return f"{self.label} ({self.first} to {self.last})" if self.partial else self.label


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _next_quarter(start: date) -> date:
    month = start.month + 3
    return date(start.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def quarters_of(period: Period) -> list[Quarter]:
    """The calendar quarters the period touches, oldest first, each cut to the period."""
    quarters, start = [], _quarter_start(period.first)
    while start <= period.last:
        following = _next_quarter(start)
        last = min(following - timedelta(days=1), period.last)
        quarters.append(Quarter(start, max(start, period.first), last))
        start = following
    return quarters


@dataclass
class PayForBugRow:
    customer_id: int
    name: str
    counts: list[int]  # bug reports created, per quarter in the order of quarters_of()

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class PayForBugTable:
    quarters: list[Quarter]
    rows: list[PayForBugRow]  # most bugs first, as many as asked for
    customers: int  # all the pay-for-bug customers
    totals: list[int]  # of all of them, per quarter

    @property
    def total(self) -> int:
        return sum(self.totals)


def pay_for_bug_by_quarter(
    period: Period,
    condition: Q,
    *,
    customer: Customer | None = None,
    limit: int | None = None,
) -> PayForBugTable:
    """Per pay-for-bug customer, the bug reports it opened in each quarter of the period
    (quarters of the company's calendar), every customer and quarter present, zero included;
    most bugs first (``limit`` customers at most, with the totals of all). Two queries: the
    customers, and the counts grouped by customer and quarter."""
    quarters = quarters_of(period)
    customers = Customer.objects.filter(pay_for_bug=True).order_by("name", "pk")
    if customer is not None:
        customers = customers.filter(pk=customer.pk)
    start, end = period.bounds()
    quarter = TruncQuarter("created_at", tzinfo=timezone.get_current_timezone())
    counts = {
        (row["customer_id"], row["quarter"].date()): row["n"]
        for row in Ticket.objects.filter(
            condition,
            kind=Ticket.Kind.BUG,
            customer__pay_for_bug=True,
            created_at__gte=start,
            created_at__lt=end,
        )
        .annotate(quarter=quarter)
        .values("customer_id", "quarter")
        .annotate(n=Count("id"))
        .order_by()
    }
    rows = [
        PayForBugRow(pk, name, [counts.get((pk, q.start), 0) for q in quarters])
        for pk, name in customers.values_list("pk", "name")
    ]
    rows.sort(key=lambda row: -row.total)  # stable: by name among equals
    totals = [sum(row.counts[index] for row in rows) for index in range(len(quarters))]
    return PayForBugTable(quarters, rows if limit is None else rows[:limit], len(rows), totals)


# --- the return funnel --------------------------------------------------------------------------

# The timeline key under which tickets.returns.rma_advance records a step: [old, new].
STEP_KEY = "return status"
REQUESTED = "requested"  # the stage before any step: the return was asked for
STEPS = list(Ticket.RmaStatus.values)  # in the order shipping takes them
_LAST = max(RMA_STEP_ORDER.values())
# A replacement or a refund ends a return: nobody stays at them, so no time is measured there.
ENDINGS = [step for step in STEPS if RMA_STEP_ORDER[step] == _LAST]
STAGES = [REQUESTED, *STEPS]
STAYS = [stage for stage in STAGES if stage not in ENDINGS]  # the stages timed
LABELS = {REQUESTED: "Requested", **dict(Ticket.RmaStatus.choices)}
# Free-text groups beyond this many (the largest first) are put together as one row.
MAX_GROUPS = 20
OTHERS = None  # the key of that row: no real group's key is NULL
GROUPINGS = {
    # key: (heading, what the key is computed from, how a key is shown)
    "product": ("Product", "product", lambda key: key or "(no product)"),
    "reason": ("Return reason", "rma_reason", lambda key: key or "(no reason given)"),
}


@dataclass
class Stage:
    key: str  # REQUESTED or a step
    label: str
    reached: int  # returns at this stage or past it (a step skipped counts as passed)
    now: int  # returns at this stage today
    days: float | None  # median days spent at the stage by the returns that moved on
    measured: int  # how many returns moved on from it (the median's count)

    @property
    def is_ending(self) -> bool:
        return self.key in ENDINGS


@dataclass
class FunnelRow:
    key: str | None  # the group's key; None for "all returns" and for the others row
    label: str
    stages: list[Stage]

    @property
    def returns(self) -> int:
        return self.stages[0].reached


@dataclass
class ReturnFunnel:
    total: FunnelRow
    by_product: list[FunnelRow]
    by_reason: list[FunnelRow]


def returns_in(period: Period, condition: Q):
    """Returns (RMA tickets) created in the period, with the filters."""
    start, end = period.bounds()
    return Ticket.objects.filter(
        condition, kind=Ticket.Kind.RMA, created_at__gte=start, created_at__lt=end
    )


def _group_key(grouping: str, prefix: str = ""):
    """The key a return is grouped by: its product as written, or its return reason trimmed
    and lower-cased (free text typed by many people: "Arrived cracked " and "arrived
    CRACKED" are one reason)."""
    field = prefix + GROUPINGS[grouping][1]
    return F(field) if grouping == "product" else Lower(Trim(field))


def _reach_counts() -> dict:
    """Aggregates on returns: how many, how many reached each step, how many are at each."""
    at_or_after = {
        step: [s for s in STEPS if RMA_STEP_ORDER[s] >= RMA_STEP_ORDER[step]] for step in STEPS
    }
    aggregates = {"n": Count("id"), f"now_{REQUESTED}": Count("id", filter=Q(rma_status=""))}
    for step in STEPS:
        # An ending is reached only by itself: a refund does not pass through a replacement.
        reached = [step] if step in ENDINGS else at_or_after[step]
        aggregates[f"reached_{step}"] = Count("id", filter=Q(rma_status__in=reached))
        aggregates[f"now_{step}"] = Count("id", filter=Q(rma_status=step))
    return aggregates


def _largest(returns, grouping: str) -> tuple[list[dict], bool]:
    """The MAX_GROUPS groups with the most returns, with their counts, and whether there are
    more groups than those."""
    rows = list(
        returns.annotate(group=_group_key(grouping))
        .values("group")
        .annotate(**_reach_counts())
        .order_by("-n", "group")[: MAX_GROUPS + 1]
    )
    return rows[:MAX_GROUPS], len(rows) > MAX_GROUPS


def _stays(returns, shown: dict[str, list | None]):
    """One row per step recorded on the returns' timelines: the step and the one before it,
    when it was entered and when the next one was (None while the return is still there),
    when the return was requested, and its key in each grouping (None when ``shown`` lists
    the keys shown by themselves and the return's is not among them)."""
    groups, raw = {}, {}
    for grouping, keys in shown.items():
        groups[f"{grouping}_key"] = _group_key(grouping)
        if keys is not None:
            raw[f"{grouping}_raw"] = _group_key(grouping)
            groups[f"{grouping}_key"] = Case(
                When(Q(**{f"{grouping}_raw__in": keys}), then=F(f"{grouping}_raw")),
                default=Value(OTHERS),
            )
    change = KeyTransform(STEP_KEY, "timeline__changes")  # [the step before, the step]
    entered_at = F("timeline__created_at")
    left_at = Window(
        Lead(entered_at),  # type: ignore[arg-type]  # Lead takes any expression
        partition_by=[F("id")],
        order_by=[entered_at.asc(), F("timeline__id").asc()],
    )
    # From the returns to their steps in one join: the annotations below reuse the join the
    # filter made, so each row is one step of one return.
    return (
        returns.filter(timeline__kind=TimelineEntry.Kind.RMA, timeline__changes__has_key=STEP_KEY)
        .alias(**raw)
        .annotate(
            step=KeyTextTransform("1", change),
            came_from=KeyTextTransform("0", change),
            entered_at=entered_at,
            requested_at=F("created_at"),
            left_at=left_at,
            **groups,
        )
        .values("step", "came_from", "entered_at", "requested_at", "left_at", *groups)
        .order_by()
    )


def _stay_medians(stays) -> dict:
    """Per grouping ("" for all returns, else "product" or "reason"), per group key, per stage
    timed: (median days, how many were timed)."""
    if not in_database(stays):
        return _stay_medians_here(stays)
    # The ORM can neither aggregate over a window function nor group by grouping sets: the
    # steps are read by the ORM's query, and the medians of all returns, of each product and
    # of each reason are computed over it in one pass.
    inner, inner_params = stays.query.sql_with_params()
    columns, params = [], []
    for stage in STAYS:
        if stage == REQUESTED:
            seconds, where = "entered_at - requested_at", "came_from = '' OR came_from IS NULL"
        else:
            seconds, where = "left_at - entered_at", "step = %s AND left_at IS NOT NULL"
            params += [stage, stage]
        columns += [
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY DATE_PART('epoch', " + seconds + "))"
            " FILTER (WHERE " + where + ")",
            "COUNT(*) FILTER (WHERE " + where + ")",
        ]
    # Only constants and the ORM's own compiled query are put together; every value is a
    # parameter.
    sql = (
        "SELECT GROUPING(product_key, reason_key), product_key, reason_key, "  # noqa: S608
        + ", ".join(columns)
        + " FROM ("
        + inner
        + ") AS stays GROUP BY GROUPING SETS ((), (product_key), (reason_key))"
    )
    # GROUPING() has a bit set for each key not grouped by: 3 for all, 1 product, 2 reason.
    groupings = {3: "", 1: "product", 2: "reason"}
    found: dict[str, dict] = {name: {} for name in groupings.values()}
    with connections[stays.db].cursor() as cursor:
        cursor.execute(sql, [*params, *inner_params])
        for mask, product, reason, *figures in cursor.fetchall():
            grouping = groupings[mask]
            key = {"": None, "product": product, "reason": reason}[grouping]
            found[grouping][key] = {
                stage: (_days(figures[2 * i]), figures[2 * i + 1]) for i, stage in enumerate(STAYS)
            }
    return found


def _stay_medians_here(stays) -> dict:
    """As _stay_medians, computed here from the rows (a database without medians)."""
    seconds: dict[str, dict] = {"": {}, "product": {}, "reason": {}}
    for row in stays:
        for grouping, key in (
            ("", None),
            ("product", row["product_key"]),
            ("reason", row["reason_key"]),
        ):
            spans = seconds[grouping].setdefault(key, {stage: [] for stage in STAYS})
            if not row["came_from"]:
                spans[REQUESTED].append((row["entered_at"] - row["requested_at"]).total_seconds())
            if row["step"] in spans and row["left_at"] is not None:
                spans[row["step"]].append((row["left_at"] - row["entered_at"]).total_seconds())
    return {
        grouping: {
            key: {
                stage: (_days(statistics.median(s) if s else None), len(s))
                for stage, s in spans.items()
            }
            for key, spans in groups.items()
        }
        for grouping, groups in seconds.items()
    }


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 86400, 1)


def _funnel_row(key, label: str, counts: dict, medians: dict) -> FunnelRow:
    stages = []
    for stage in STAGES:
        days, measured = medians.get(stage, (None, 0))
        stages.append(
            Stage(
                key=stage,
                label=LABELS[stage],
                reached=counts["n"] if stage == REQUESTED else counts[f"reached_{stage}"],
                now=counts[f"now_{stage}"],
                days=days,
                measured=measured,
            )
        )
    return FunnelRow(key, label, stages)


def _funnel_rows(grouping: str, largest, more: bool, total: dict, medians: dict):
    """The funnel per group, most returns first; past MAX_GROUPS the rest make one row."""
    show = GROUPINGS[grouping][2]
    rows = [
        _funnel_row(row["group"], show(row["group"]), row, medians.get(row["group"], {}))
        for row in largest
    ]
    if more:
        rest = {name: total[name] - sum(row[name] for row in largest) for name in total}
        label = f"All other {GROUPINGS[grouping][0].lower()}s"
        rows.append(_funnel_row(OTHERS, label, rest, medians.get(OTHERS, {})))
    return rows


def return_funnel(period: Period, condition: Q) -> ReturnFunnel:
    """For the returns requested in the period: how many reached each of shipping's steps
    (authorised, awaiting return, received, inspected, then a replacement shipped or a
    refund), how many are at each today, and the median days a return spent at each step
    before the next was recorded (from the timeline; a return still at a step is not timed
    there yet). For all returns, by product and by return reason. Four queries: the counts
    of all, of the largest products and of the largest reasons, and the medians."""
    returns = returns_in(period, condition)
    total = returns.aggregate(**_reach_counts())
    if not total["n"]:
        return ReturnFunnel(_funnel_row(None, "All returns", total, {}), [], [])
    largest = {grouping: _largest(returns, grouping) for grouping in GROUPINGS}
    shown = {
        grouping: [row["group"] for row in rows] if more else None
        for grouping, (rows, more) in largest.items()
    }
    medians = _stay_medians(_stays(returns, shown))
    return ReturnFunnel(
        total=_funnel_row(None, "All returns", total, medians[""].get(None, {})),
        by_product=_funnel_rows("product", *largest["product"], total, medians["product"]),
        by_reason=_funnel_rows("reason", *largest["reason"], total, medians["reason"]),
    )
