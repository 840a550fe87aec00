"""The long tables: lists of tickets behind a report's figures, which may run to hundreds of
thousands of rows. Each is built from the report's query string, the same way by the page
that offers it and by the worker that writes it in the background (insights.export)."""

from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.text import slugify

from insights.export import Table, long_table
from insights.filters import ReportFilterForm
from insights.selectors.market import product_requests
from insights.selectors.root_causes import resolved_in
from tickets.models import Ticket


def filters_of(query: QueryDict) -> ReportFilterForm:
    form = ReportFilterForm(query or None)
    if query:
        form.is_valid()
    return form


@long_table("root-cause-tickets")
def root_cause_tickets(query: QueryDict, *, cause: str) -> Table:
    if cause not in Ticket.RootCause.values:
        raise Http404("No such root cause.")
    form = filters_of(query)
    period = form.chosen_period()
    tickets = (
        resolved_in(period, form.ticket_filter())
        .filter(root_cause=cause)
        .select_related("customer")
        .only("id", "subject", "kind", "product", "resolved_at", "resolution", "customer__name")
        .order_by("-resolved_at", "-id")
    )

    def rows():
        for t in tickets.iterator(chunk_size=2000):
            yield [
                t.reference,
                t.subject,
                t.customer.name,
                t.get_kind_display(),
                t.product,
                timezone.localdate(t.resolved_at).isoformat() if t.resolved_at else "",
                t.resolution,
            ]

    return Table(
        filename=f"root-cause-{cause}-{period.first}-{period.last}",
        header=["ticket", "subject", "customer", "kind", "product", "resolved", "resolution"],
        count=tickets.count(),
        rows=rows,
    )


def product_file_part(product: str | None) -> str:
    """A product as a safe part of a file name (None: every product)."""
    if product is None:
        return "all-products"
    return slugify(product) or "no-product"


@long_table("market-requests")
def market_requests(query: QueryDict, *, product: str | None) -> Table:
    """The requests for enhancement behind the market report (one product's, or every
    product's with None), with their text: a year of them can run to tens of thousands."""
    form = filters_of(query)
    period = form.chosen_period()
    tickets = product_requests(period, form.ticket_filter(), product)

    def rows():
        for t in tickets.iterator(chunk_size=2000):
            yield [
                t.reference,
                timezone.localdate(t.created_at).isoformat(),
                t.customer.name,
                f"{t.customer_revenue:.2f}",  # type: ignore[attr-defined]  # annotated
                t.product,
                t.get_status_display(),
                t.subject,
                t.description,
            ]

    return Table(
        filename=f"market-requests-{product_file_part(product)}-{period.first}-{period.last}",
        header=[
            "ticket",
            "created",
            "customer",
            "customer's paid revenue (12 months)",
            "product",
            "status",
            "subject",
            "description",
        ],
        count=tickets.count(),
        rows=rows,
    )
