"""Reads about people and customers, including a customer's financial standing."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict, cast

from django.conf import settings
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Replace
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import Contact, Customer, Department, Invoice, Membership, User
from helpdesk.prepared import PreparedQuery


class _StandingFigures(TypedDict):
    unpaid_invoice_count: int
    unpaid_amount: Decimal | None
    overdue_invoice_count: int
    overdue_amount: Decimal | None


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # A customer as customers_with_standing annotates it.
    AnnotatedCustomer = WithAnnotations[Customer, _StandingFigures]
else:
    AnnotatedCustomer = Customer

_ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=12, decimal_places=2))
_CENTS = Decimal("0.01")


def amount_from_sum(value) -> Decimal:
    """A summed amount as a Decimal with two places: SQLite sums decimals as floats (2300.0)
    or integers (2300), PostgreSQL keeps them."""
    return Decimal(str(value)).quantize(_CENTS)


@dataclass(frozen=True)
class CustomerStanding:
    """What support, finance and routing need to know about a customer today."""

    has_service_contract: bool
    contract_ends_on: date | None
    unpaid_invoice_count: int
    unpaid_amount: Decimal
    overdue_invoice_count: int
    overdue_amount: Decimal
    pay_for_bug: bool
    salesperson_id: int | None
    salesperson_username: str | None = None

    @property
    def has_unpaid_invoices(self) -> bool:
        return self.unpaid_invoice_count > 0

    @property
    def has_overdue_invoices(self) -> bool:
        return self.overdue_invoice_count > 0


def overdue_invoices(*, today: date) -> QuerySet[Invoice]:
    """Invoices overdue today: unpaid and due before today, as a customer's standing counts
    them (``_standing_annotations``)."""
    return Invoice.objects.filter(paid_on__isnull=True, due_on__lt=today)


def _standing_annotations(today: date) -> dict:
    # Overdue as overdue_invoices has it.
    unpaid = Q(invoices__paid_on__isnull=True)
    overdue = unpaid & Q(invoices__due_on__lt=today)
    return {
        "unpaid_invoice_count": Count("invoices", filter=unpaid),
        "unpaid_amount": Coalesce(Sum("invoices__amount", filter=unpaid), _ZERO),
        "overdue_invoice_count": Count("invoices", filter=overdue),
        "overdue_amount": Coalesce(Sum("invoices__amount", filter=overdue), _ZERO),
    }


def customers_with_standing(*, today: date | None = None) -> "QuerySet[AnnotatedCustomer]":
    """Customers annotated with their invoice figures, in one query however many are listed."""
    today = today or timezone.localdate()
    # Meta.ordering is not applied to aggregating queries: without this, pages could overlap.
    customers = (
        Customer.objects.select_related("salesperson")
        .annotate(**_standing_annotations(today))
        .order_by("name", "pk")
    )
    # The annotations' names come from a dict, which the type checker cannot follow.
    return cast("QuerySet[AnnotatedCustomer]", customers)


def customer_standing(*, customer_id: int, today: date | None = None) -> CustomerStanding:
    """The standing of one customer, in one query."""
    today = today or timezone.localdate()
    return standing_from_annotated(customers_with_standing(today=today).get(pk=customer_id), today)


def customer_standings(*, customer_ids, today: date | None = None) -> dict[int, CustomerStanding]:
    """The standing of many customers by id, in one query."""
    today = today or timezone.localdate()
    customers = customers_with_standing(today=today).filter(pk__in=set(customer_ids))
    return {customer.pk: standing_from_annotated(customer, today) for customer in customers}


def standing_from_annotated(customer: "AnnotatedCustomer", today: date) -> CustomerStanding:
    """The standing of a customer row that came from ``customers_with_standing``."""
    return CustomerStanding(
        has_service_contract=customer_has_service_contract(customer, today=today),
        contract_ends_on=customer.contract_ends_on,
        unpaid_invoice_count=customer.unpaid_invoice_count,
        unpaid_amount=amount_from_sum(customer.unpaid_amount),
        overdue_invoice_count=customer.overdue_invoice_count,
        overdue_amount=amount_from_sum(customer.overdue_amount),
        pay_for_bug=customer.pay_for_bug,
        salesperson_id=customer.salesperson_id,
        salesperson_username=customer.salesperson.username if customer.salesperson else None,
    )


def customer_has_service_contract(customer: Customer, *, today: date) -> bool:
    """A contract counts from its start (if given) through its end date inclusive."""
    if customer.contract_ends_on is None or customer.contract_ends_on < today:
        return False
    return customer.contract_starts_on is None or customer.contract_starts_on <= today


def customers_list() -> QuerySet[Customer]:
    return Customer.objects.select_related("salesperson")


def contacts_list() -> QuerySet[Contact]:
    return Contact.objects.select_related("customer")


def invoices_list() -> QuerySet[Invoice]:
    return Invoice.objects.select_related("customer")


def departments_list() -> QuerySet[Department]:
    return Department.objects.all()


def staff_list() -> QuerySet[User]:
    """Active staff, for pickers (assignee, filters): ids and usernames only."""
    return User.objects.filter(is_active=True).order_by("username").only("id", "username")


def membership_of(*, user: User, department: Department) -> Membership | None:
    return Membership.objects.filter(user=user, department=department).first()


# A contract ending within this many days is shown as "ending soon": time for a renewal call.
CONTRACT_ENDING_SOON_DAYS = 30


def contract_state(customer: Customer, *, today: date) -> str:
    """``active``, ``ending_soon``, ``expired``, ``not_started`` or ``none``."""
    ends = customer.contract_ends_on
    if ends is None:
        return "none"
    if ends < today:
        return "expired"
    if customer.contract_starts_on and customer.contract_starts_on > today:
        return "not_started"
    return "ending_soon" if (ends - today).days <= CONTRACT_ENDING_SOON_DAYS else "active"


def _digits_only(expression):
    for separator in (" ", "-", "(", ")", ".", "+", "/"):
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def customer_matches(*, query: str, limit: int = 8) -> list[tuple[Customer, Contact | None]]:
    """Customers whose name, or one of whose contacts' name, email or phone, matches ``query``.

    Customers matched by name come first, each once; then contacts, with their customer.
    """
    query = query.replace("\x00", "").strip()  # PostgreSQL refuses NUL in text
    if len(query) < 2:
        return []
    found: list[tuple[Customer, Contact | None]] = [
        (customer, None)
        for customer in Customer.objects.filter(name__icontains=query).order_by("name")[:limit]
    ]
    by_contact = Q(name__icontains=query) | Q(email__icontains=query)
    digits = "".join(ch for ch in query if ch.isascii() and ch.isdigit())
    contacts = Contact.objects.select_related("customer")
    if len(digits) >= 4 and len(digits) >= len(query.replace(" ", "")) - 3:
        contacts = contacts.annotate(phone_digits=_digits_only(F("phone")))
        by_contact |= Q(phone_digits__contains=digits)
    found += [
        (contact.customer, contact)
        for contact in contacts.filter(by_contact).order_by("name")[: limit - len(found)]
    ]
    return found[:limit]


# Read for every event routed: their SQL is built once (helpdesk.prepared).
_CUSTOMERS = PreparedQuery(
    lambda ids: Customer.objects.filter(pk__in=ids).select_related("salesperson").order_by()
)
# Unordered: the standing sums them (and sorting them cost the routing time).
_INVOICES_UNPAID_SINCE = PreparedQuery(
    lambda ids, since: (
        Invoice.objects.filter(customer_id__in=ids)
        .filter(Q(paid_on__isnull=True) | Q(paid_on__gt=since))
        .order_by()
        .values_list("customer_id", "amount", "issued_on", "due_on", "paid_on")
    )
)


class StandingBook:
    """The standing of some customers on any day, from two queries however many days are asked.

    Routing judges each event on its own day, and a dry run replays thousands of events over
    many days: an invoice counts as unpaid on a day if it was issued by then and not yet paid
    that day, and as overdue if it was also due before that day.
    """

    def __init__(self, *, customer_ids, since: date):
        ids = set(customer_ids)
        self._customers = {customer.pk: customer for customer in _CUSTOMERS(ids)}
        self._invoices: dict[int, list[tuple[Decimal, date, date, date | None]]] = {}
        for row in _INVOICES_UNPAID_SINCE(ids, since):
            self._invoices.setdefault(row[0], []).append(row[1:])

    def on(self, customer_id: int, day: date) -> CustomerStanding:
        customer = self._customers[customer_id]
        unpaid = [
            (amount, due_on)
            for amount, issued_on, due_on, paid_on in self._invoices.get(customer_id, ())
            if issued_on <= day and (paid_on is None or paid_on > day)
        ]
        overdue = [amount for amount, due_on in unpaid if due_on < day]
        return CustomerStanding(
            has_service_contract=customer_has_service_contract(customer, today=day),
            contract_ends_on=customer.contract_ends_on,
            unpaid_invoice_count=len(unpaid),
            unpaid_amount=sum((amount for amount, _ in unpaid), Decimal("0.00")),
            overdue_invoice_count=len(overdue),
            overdue_amount=sum(overdue, Decimal("0.00")),
            pay_for_bug=customer.pay_for_bug,
            salesperson_id=customer.salesperson_id,
            salesperson_username=customer.salesperson.username if customer.salesperson else None,
        )


def api_token_expires_at(*, token: Token) -> datetime:
    """When an API token stops being accepted: API_TOKEN_DAYS after it was issued."""
    return token.created + timedelta(days=settings.API_TOKEN_DAYS)


def api_token_has_expired(*, token: Token) -> bool:
    return timezone.now() >= api_token_expires_at(token=token)
