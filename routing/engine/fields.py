"""The fields a condition can test: their type, label, and whether events record their changes.

Facts (``facts.py``) carry a value under each field's name; a field whose changes events record
(``changeable``) also accepts the change operators.
"""

from dataclasses import dataclass

from routing.engine.operators import (
    BOOL,
    CHANGE_OPERATORS,
    CHOICE,
    DEPARTMENT,
    NUMBER,
    OPERATORS,
    TAGS,
    TEXT,
    USER,
)
from tickets.models import MessageDirection, MessageSender, SurveyCategory, Ticket, TicketEvent


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str
    group: str
    choices: tuple[str, ...] = ()
    changeable: bool = False
    help: str = ""
    # (value, label) for choice fields: rules store the value, people read the label.
    choice_labels: tuple[tuple[str, str], ...] = ()

    def label_of(self, value) -> str:
        """The label a person reads for a stored choice value (the value if it has none)."""
        return dict(self.choice_labels).get(value, str(value))

    @property
    def operators(self) -> dict:
        if self.changeable:
            return {**OPERATORS[self.type], **CHANGE_OPERATORS}
        return OPERATORS[self.type]


def _choice(name: str, label: str, group: str, choices, changeable: bool = False) -> Field:
    return Field(
        name,
        CHOICE,
        label,
        group,
        tuple(choices.values),
        changeable=changeable,
        choice_labels=tuple(choices.choices),
    )


_FIELDS = [
    # The ticket, as the event recorded it.
    _choice("kind", "Kind", "ticket", Ticket.Kind, changeable=True),
    _choice("channel", "Channel", "ticket", Ticket.Channel),
    _choice("priority", "Priority", "ticket", Ticket.Priority, changeable=True),
    _choice("status", "Status", "ticket", Ticket.Status, changeable=True),
    Field("product", TEXT, "Product", "ticket", changeable=True),
    Field("subject", TEXT, "Subject", "ticket", changeable=True),
    Field("description", TEXT, "Description", "ticket", changeable=True),
    Field("text", TEXT, "Subject or description", "ticket"),
    Field("tags", TAGS, "Tags", "ticket", changeable=True),
    Field("assignee", USER, "Assignee", "ticket", changeable=True),
    Field("department", DEPARTMENT, "Responsible department", "ticket", changeable=True),
    # Time, measured when the event happened (or when a time-based rule is checked).
    Field("age_hours", NUMBER, "Hours since created", "time"),
    Field("hours_since_update", NUMBER, "Hours since last update", "time"),
    Field(
        "working_hours_since_created",
        NUMBER,
        "Working hours since created",
        "time",
        help="Counted on the company calendar: working days and hours, less holidays.",
    ),
    Field("has_first_response", BOOL, "Has had a first response", "time"),
    Field("days_in_status", NUMBER, "Days in its current status", "time"),
    # The customer, today.
    Field(
        "customer.has_service_contract", BOOL, "Customer has an active service contract", "customer"
    ),
    Field(
        "customer.contract_ends_in_days",
        NUMBER,
        "Days until the customer's contract ends",
        "customer",
        help="Not set when the customer has no contract, or once it has ended.",
    ),
    Field("customer.has_unpaid_invoices", BOOL, "Customer has unpaid invoices", "customer"),
    Field("customer.has_overdue_invoices", BOOL, "Customer has overdue invoices", "customer"),
    Field("customer.unpaid_amount", NUMBER, "Customer's unpaid amount", "customer"),
    Field("customer.overdue_amount", NUMBER, "Customer's overdue amount", "customer"),
    Field("customer.unpaid_invoice_count", NUMBER, "Customer's unpaid invoices", "customer"),
    Field("customer.overdue_invoice_count", NUMBER, "Customer's overdue invoices", "customer"),
    Field("customer.pay_for_bug", BOOL, "Customer has a pay-for-bug agreement", "customer"),
    Field("customer.salesperson", USER, "Customer's salesperson", "customer"),
    # The event itself.
    _choice("event.type", "Event", "event", TicketEvent.Type),
    Field("event.changed_fields", TAGS, "Fields the event changed", "event"),
    Field("event.is_automatic", BOOL, "Event was made by a rule", "event"),
    # The message a "message received" event is about (not set on other events).
    _choice("message.channel", "Message came by", "event", Ticket.Channel),
    _choice("message.direction", "Message direction", "event", MessageDirection),
    _choice("message.sender", "Message sender", "event", MessageSender),
    Field(
        "message.is_automatic",
        BOOL,
        "Message is an automatic reply",
        "event",
        help="An out-of-office or other auto-reply: recorded on the ticket, never answered.",
    ),
    # The answer a "survey answered" event is about (not set on other events).
    Field(
        "survey.score",
        NUMBER,
        "Survey score (0-10)",
        "event",
        help='"How likely are you to recommend us to a friend or colleague?"',
    ),
    _choice("survey.category", "Survey answer is a", "event", SurveyCategory),
    Field("survey.reason", TEXT, "Reason given for the score", "event"),
    Field(
        "survey.customer_open_problems",
        NUMBER,
        "Customer's open problems when the survey was answered",
        "event",
        help="Open bugs and returns of the customer, this ticket included if it is open.",
    ),
    Field("survey.is_change", BOOL, "Survey answer changes an earlier one", "event"),
]

FIELDS: dict[str, Field] = {field.name: field for field in _FIELDS}
# The fields whose changes events record, registered ones included.
CHANGEABLE: set[str] = {field.name for field in _FIELDS if field.changeable}


def fields_register(*fields: Field) -> None:
    """Add fields another app provides facts for (see ``facts.FactSource``)."""
    for field in fields:
        if field.name in FIELDS and FIELDS[field.name] != field:
            raise ValueError(f"Two fields registered as {field.name!r}.")
        FIELDS[field.name] = field
        if field.changeable:
            CHANGEABLE.add(field.name)
