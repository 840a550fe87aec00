"""Market research: what customers ask for and what goes wrong with each product, weighed by
how many customers (and how much revenue) stand behind it, and the problems that "same
problem" links show to have hit many customers.

Internal and partner customers are not the market: their tickets, invoices and numbers are
left out of every figure here (a link through one of their tickets still joins two groups).
A few statements are written by hand where the ORM cannot say them (a GROUP BY over a GROUP
BY, a recursive walk); what they nest is compiled by Django, and every value is a parameter.
They are plain SQL that PostgreSQL and SQLite (a trial install's database) both run.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connections
from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Customer, Invoice
from insights.filters import Period
from insights.models import ProductCustomer
from insights.rollups import PRODUCT_CUSTOMERS, complete_before_moment
from tickets.models import Ticket

NO_PRODUCT = "(no product)"
# Bugs are what is wrong with a product, returns (RMAs) what broke of it: both are problems
# with the product. Calls (questions) and RFEs (wishes) are not.
PROBLEM_KINDS = (Ticket.Kind.BUG, Ticket.Kind.RMA)
TICKETS = Ticket._meta.db_table
CUSTOMERS = Customer._meta.db_table
LINKS = Ticket.related.through._meta.db_table


def market_tickets(period: Period, condition: Q) -> QuerySet[Ticket]:
    """Tickets created within the period (the company's days) that match the filters, of
    customers that are neither internal nor partners."""
    start, end = period.bounds()
    return Ticket.objects.filter(
        condition, created_at__gte=start, created_at__lt=end, customer__is_internal=False
    )


def revenue_window(period: Period) -> tuple[date, date]:
    """The twelve months up to the period's last day, both days included."""
    after = period.last + timedelta(days=1)
    try:
        first = after.replace(year=after.year - 1)
    except ValueError:  # a 29th of February: the year before has none
        first = date(after.year - 1, 3, 1)
    return first, period.last


def paid_in(window: tuple[date, date]) -> QuerySet[Invoice]:
    """Invoices paid within the window (both days included): money received, not billed."""
    return Invoice.objects.filter(paid_on__gte=window[0], paid_on__lte=window[1])


def _sql(queryset: QuerySet) -> tuple[str, list]:
    """A queryset compiled by Django for the database it reads from (the replica, in a
    report), to be nested in a statement of our own; its values stay parameters."""
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    return sql, list(params)


def _fetch(queryset: QuerySet, statement: str, params: list) -> list[tuple]:
    """The rows of a statement, from the database ``queryset`` reads from."""
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _money(value) -> Decimal:
    # SQLite sums decimals as floats.
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _moment(value) -> datetime:
    # SQLite returns a raw statement's datetimes naive (or as text), in UTC.
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _share(part, whole) -> float:
    return float(part) / float(whole) if whole else 0.0


# Per product: requests for enhancement, and problems per 100 customers ---------------------


@dataclass
class RequestRow:
    product: str
    requests: int  # RFEs created in the period
    customers: int  # distinct customers who asked
    customer_share: float  # of all customers on record, 0 to 1
    revenue: Decimal  # those customers' invoices paid in the revenue window, for anything
    revenue_share: float  # of all customers' invoices paid in the window, 0 to 1

    @property
    def label(self) -> str:
        return self.product or NO_PRODUCT

    @property
    def customer_percent(self) -> float:
        return self.customer_share * 100

    @property
    def revenue_percent(self) -> float:
        return self.revenue_share * 100


@dataclass
class RequestsTable:
    rows: list[RequestRow]
    customers_on_record: int  # the customer share's denominator
    revenue_total: Decimal  # the revenue share's denominator
    window: tuple[date, date]

    @property
    def requests(self) -> int:
        return sum(row.requests for row in self.rows)


@dataclass
class ProblemRow:
    product: str
    bugs: int
    returns: int
    customers_hit: int  # distinct customers with a problem in the period
    # Distinct customers with any ticket about the product (of any kind) created before the
    # period's end: nothing records who owns which product, and this is the nearest count.
    base: int = 0

    @property
    def label(self) -> str:
        return self.product or NO_PRODUCT

    @property
    def problems(self) -> int:
        return self.bugs + self.returns

    @property
    def per_100(self) -> float | None:
        return round(100 * self.problems / self.base, 1) if self.base else None


@dataclass
class ProductTables:
    requests: RequestsTable
    problems: list[ProblemRow]

    @property
    def problem_count(self) -> int:
        return sum(row.problems for row in self.problems)


# Counted per (product, customer) first, so that a customer who asked twice for a product
# counts once, and their revenue once; then per product. One pass over the period's tickets
# serves both tables.
_PER_PRODUCT = """
SELECT pairs.product,
    SUM(pairs.requests),
    COUNT(CASE WHEN pairs.requests > 0 THEN 1 END),
    SUM(CASE WHEN pairs.requests > 0 THEN paid.revenue END),
    SUM(pairs.bugs),
    SUM(pairs.returns),
    COUNT(CASE WHEN pairs.bugs + pairs.returns > 0 THEN 1 END)
FROM ({pairs}) AS pairs
LEFT JOIN ({paid}) AS paid ON paid.customer_id = pairs.customer_id
GROUP BY pairs.product
"""


def _customer_bases(products: list[str], before: datetime) -> dict[str, int]:
    """Per product, the customers (not internal) with any ticket about it created before
    ``before``. From the product customers rollup (insights.rollups) for the tickets it holds,
    and from the tickets created since its refresh; from the tickets alone before the first
    refresh, distinct (product, customer) pairs taken first and joined to customers after, so
    that an index on (product, customer_id, created_at) answers it alone."""
    if not products:
        return {}
    since = complete_before_moment(PRODUCT_CUSTOMERS)
    later = Ticket.objects.filter(product__in=products, created_at__lt=before)
    pairs: QuerySet
    if since is None:
        pairs = later.values("product", "customer_id").distinct().order_by()
    else:
        stored = ProductCustomer.objects.filter(
            product__in=products, first_ticket_at__lt=before
        ).values("product", "customer_id")
        live = later.filter(created_at__gte=since).values("product", "customer_id").order_by()
        pairs = stored.order_by().union(live)  # a union keeps each pair once
    pairs_sql, params = _sql(pairs)
    statement = f"""
        SELECT pairs.product, COUNT(*) FROM ({pairs_sql}) AS pairs
        JOIN {CUSTOMERS} AS customer
        ON customer.id = pairs.customer_id AND NOT customer.is_internal
        GROUP BY pairs.product
    """  # noqa: S608 - table names and SQL compiled by Django; values are parameters
    return dict(_fetch(pairs, statement, params))


def product_tables(period: Period, condition: Q) -> ProductTables:
    """Per product, for the tickets created in the period that match the filters:

    - requests for enhancement: how many, from how many customers (and their share of all
      customers on record), and what those customers paid in the twelve months to the
      period's end (and its share of what all customers paid); most customers first;
    - problems (bug reports and returns): how many, the customers hit, and the problems per
      100 customers of the product; highest rate first.

    Four queries, however many products and customers."""
    window = revenue_window(period)
    pairs = (
        market_tickets(period, condition)
        .filter(kind__in=(Ticket.Kind.RFE, *PROBLEM_KINDS))
        .values("product", "customer_id")
        .annotate(
            requests=Count("id", filter=Q(kind=Ticket.Kind.RFE)),
            bugs=Count("id", filter=Q(kind=Ticket.Kind.BUG)),
            returns=Count("id", filter=Q(kind=Ticket.Kind.RMA)),
        )
        .order_by()
    )
    paid = paid_in(window).values("customer_id").annotate(revenue=Sum("amount")).order_by()
    (pairs_sql, pairs_params), (paid_sql, paid_params) = _sql(pairs), _sql(paid)
    found = _fetch(
        pairs, _PER_PRODUCT.format(pairs=pairs_sql, paid=paid_sql), pairs_params + paid_params
    )
    customers = Customer.objects.filter(is_internal=False).count()
    revenue_total = _money(
        paid_in(window).filter(customer__is_internal=False).aggregate(total=Sum("amount"))["total"]
    )
    requests, problems = [], []
    for product, asked, askers, revenue, bugs, returns, hit in found:
        if asked:
            requests.append(
                RequestRow(
                    product=product,
                    requests=int(asked),
                    customers=askers,
                    customer_share=_share(askers, customers),
                    revenue=_money(revenue),
                    revenue_share=_share(_money(revenue), revenue_total),
                )
            )
        if bugs or returns:
            problems.append(ProblemRow(product, int(bugs), int(returns), hit))
    bases = _customer_bases([row.product for row in problems], period.bounds()[1])
    for row in problems:
        row.base = bases.get(row.product, 0)
    requests.sort(key=lambda row: (-row.customers, -row.revenue, row.product))
    problems.sort(key=lambda row: (-(row.per_100 or 0), -row.problems, row.product))
    return ProductTables(RequestsTable(requests, customers, revenue_total, window), problems)


def customer_revenue(window: tuple[date, date]) -> Coalesce:
    """Per ticket, its customer's invoices paid within the window (0 without any)."""
    total = (
        paid_in(window)
        .filter(customer_id=OuterRef("customer_id"))
        .values("customer_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money: DecimalField = DecimalField(max_digits=14, decimal_places=2)
    return Coalesce(Subquery(total, output_field=money), Value(Decimal(0)), output_field=money)


def product_requests(period: Period, condition: Q, product: str | None) -> QuerySet[Ticket]:
    """The RFEs counted for a product (every product's with None), latest first, each with
    its customer's revenue in the window."""
    tickets = market_tickets(period, condition).filter(kind=Ticket.Kind.RFE)
    if product is not None:
        tickets = tickets.filter(product=product)
    return (
        tickets.select_related("customer")
        .annotate(customer_revenue=customer_revenue(revenue_window(period)))
        .order_by("-created_at", "-id")
    )


# Same-problem groups ------------------------------------------------------------------------


@dataclass
class ProblemGroup:
    ticket_id: int  # the group's first ticket (the smallest id), which names it
    subject: str = ""  # of that ticket
    tickets: int = 0  # all the group's tickets, whenever created
    in_period: int = 0  # of them, created in the period and matching the filters
    first_created: datetime | None = None
    last_created: datetime | None = None
    customer_ids: set[int] = field(default_factory=set)  # hit: internal and partners left out
    product_names: set[str] = field(default_factory=set)

    @property
    def reference(self) -> str:
        return f"T-{self.ticket_id}"

    @property
    def customers(self) -> int:
        return len(self.customer_ids)

    @property
    def products(self) -> list[str]:
        return sorted(self.product_names)


# The links reachable from the period's tickets, and no others: a walk from the period's
# linked tickets along the link rows (Django stores a symmetrical link both ways, so following
# from_ticket -> to_ticket reaches every neighbour). UNION, not UNION ALL, stops the walk at
# tickets already reached. Each ticket reached comes with whether it is one of the period's
# (seed 1) or was only reached through links (seed 0), and what the groups count of it.
_REACHED = f"""
WITH RECURSIVE linked AS MATERIALIZED (SELECT DISTINCT from_ticket_id AS id FROM {LINKS}),
reached(id, seed) AS (
    SELECT link.from_ticket_id, 1 FROM {LINKS} AS link WHERE link.from_ticket_id IN ({{seeds}})
    UNION
    SELECT link.to_ticket_id, 0 FROM reached JOIN {LINKS} AS link
    ON link.from_ticket_id = reached.id
)
SELECT link.from_ticket_id, link.to_ticket_id, node.seed, ticket.customer_id,
    customer.is_internal, ticket.created_at, ticket.product, ticket.subject
FROM (SELECT id, MAX(seed) AS seed FROM reached GROUP BY id) AS node
JOIN {LINKS} AS link ON link.from_ticket_id = node.id
JOIN {TICKETS} AS ticket ON ticket.id = node.id
JOIN {CUSTOMERS} AS customer ON customer.id = ticket.customer_id
"""  # noqa: S608 - table names and SQL compiled by Django; values are parameters


def _roots(links) -> dict[int, int]:
    """Per ticket, the smallest ticket id of its connected group (union-find over the links)."""
    parent: dict[int, int] = {}

    def find(node: int) -> int:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # halve the path on the way up
            node = parent[node]
        return node

    for one, other in links:
        a, b = find(one), find(other)
        if a != b:
            # The smaller root wins, so every group is named by its smallest ticket id.
            parent[max(a, b)] = min(a, b)
    return {node: find(node) for node in parent}


def same_problem_groups(period: Period, condition: Q) -> list[ProblemGroup]:
    """Tickets linked as the same problem, directly or through others, rolled up into groups:
    only groups with a ticket of the period that matches the filters, each counted whole
    (every ticket, whenever created); most customers hit first. One query, which reads only
    the links of these groups and their tickets: never the period's other tickets."""
    # The seeds are looked up among the linked tickets (the "linked" CTE, a few in a hundred):
    # left to itself, the planner hashed every ticket of the period first, three times as slow.
    seeds = (
        market_tickets(period, condition)
        .filter(id__in=RawSQL("SELECT id FROM linked", []))  # noqa: S611 - a constant
        .values("id")
        .order_by()
    )
    seeds_sql, params = _sql(seeds)
    rows = _fetch(seeds, _REACHED.format(seeds=seeds_sql), params)
    roots = _roots((one, other) for one, other, *_ in rows)
    groups: dict[int, ProblemGroup] = {}
    # A ticket comes once per link it has: each is counted once.
    tickets = {row[0]: row[2:] for row in rows}
    for ticket_id, (seed, customer_id, internal, created, product, subject) in tickets.items():
        root = roots[ticket_id]
        group = groups.setdefault(root, ProblemGroup(root))
        created = _moment(created)
        group.tickets += 1
        group.in_period += 1 if seed else 0
        group.first_created = min(group.first_created or created, created)
        group.last_created = max(group.last_created or created, created)
        if not internal:
            group.customer_ids.add(customer_id)
        if product:
            group.product_names.add(product)
        if ticket_id == root:
            group.subject = subject
    return sorted(
        groups.values(), key=lambda group: (-group.customers, -group.tickets, group.ticket_id)
    )


_GROUP_OF = f"""
WITH RECURSIVE reached(id) AS (
    SELECT CAST(%s AS BIGINT)
    UNION
    SELECT link.to_ticket_id FROM reached JOIN {LINKS} AS link ON link.from_ticket_id = reached.id
)
SELECT id FROM reached
"""  # noqa: S608 - table names and SQL compiled by Django; values are parameters


def group_tickets(ticket_id: int) -> QuerySet[Ticket]:
    """Every ticket linked to this one, directly or through others, itself included; in the
    order they were created. One query."""
    return (
        Ticket.objects.filter(id__in=RawSQL(_GROUP_OF, [ticket_id]))  # noqa: S611 - a constant
        .select_related("customer")
        .order_by("created_at", "id")
    )
