"""The fields a condition can test, each with its type and how to read it from the facts."""

from dataclasses import dataclass

from routing.engine.operators import BOOL, CHOICE, NUMBER, TEXT
from tickets.models import Ticket


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str
    choices: tuple[str, ...] = ()


_FIELDS = [
    Field("kind", CHOICE, "Kind", tuple(Ticket.Kind.values)),
    Field("channel", CHOICE, "Channel", tuple(Ticket.Channel.values)),
    Field("priority", CHOICE, "Priority", tuple(Ticket.Priority.values)),
    Field("status", CHOICE, "Status", tuple(Ticket.Status.values)),
    Field("product", TEXT, "Product"),
    Field("subject", TEXT, "Subject"),
    Field("description", TEXT, "Description"),
    Field("text", TEXT, "Subject or description"),
    Field("customer.has_service_contract", BOOL, "Customer has an active service contract"),
    Field("customer.has_unpaid_invoices", BOOL, "Customer has unpaid invoices"),
    Field("customer.has_overdue_invoices", BOOL, "Customer has overdue invoices"),
    Field("customer.pay_for_bug", BOOL, "Customer has a pay-for-bug agreement"),
    Field("customer.unpaid_amount", NUMBER, "Customer's unpaid amount"),
    Field("customer.overdue_amount", NUMBER, "Customer's overdue amount"),
]

FIELDS: dict[str, Field] = {field.name: field for field in _FIELDS}
