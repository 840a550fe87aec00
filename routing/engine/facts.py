"""The facts a rule is evaluated against, keyed by condition field name.

The ticket comes from the event's snapshot (as it was when the event happened); the customer's
invoices and contract are the rows as they are now, judged on the event's date; time fields are
measured at ``now``, which is the event's time for ticket events. Other apps add facts of their
own (open follow-ups, say) by registering a ``FactSource``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from accounts.selectors import CustomerStanding, StandingBook
from helpdesk.calendar import working_hours_between
from routing.engine.fields import CHANGEABLE, Field, fields_register
from tickets.models import TicketEvent


@dataclass(frozen=True)
class FactSource:
    """Facts about tickets that another app knows, under fields it registers.

    ``facts(ticket_ids, days)`` answers, for each ticket id and day asked, the facts on that day
    (in as few queries as it can, however many are asked). For time-based rules it may also name
    ``timer_candidates(today)``: a ``ticket_id`` values query of tickets to check even when they
    are no longer being worked; and ``timer_occurrences(tickets, now)``: per ticket id, what
    started the clock of a rule testing its fields, so that the rule fires once per occurrence.
    """

    fields: tuple[Field, ...]
    facts: Callable[[list[int], list[date]], list[dict]]
    timer_candidates: Callable[[date], QuerySet] | None = None
    timer_occurrences: Callable[[list, datetime], dict[int, str]] | None = None


FACT_SOURCES: list[FactSource] = []


def facts_register(source: FactSource) -> None:
    if source not in FACT_SOURCES:
        fields_register(*source.fields)
        FACT_SOURCES.append(source)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _hours(since: datetime | None, now: datetime) -> float | None:
    if since is None:
        return None
    return round((now - since).total_seconds() / 3600, 2)


def build_facts(
    *,
    snapshot: dict,
    changes: dict,
    event_type: str,
    is_automatic: bool,
    now: datetime,
    standing: CustomerStanding,
    today: date,
) -> dict:
    facts = {name: snapshot.get(name) for name in ("kind", "channel", "priority", "status")}
    for name in ("product", "subject", "description"):
        facts[name] = snapshot.get(name) or ""
    facts["text"] = f"{facts['subject']}\n{facts['description']}"
    facts["tags"] = list(snapshot.get("tags") or [])
    facts["assignee"] = snapshot.get("assignee")
    facts["department"] = snapshot.get("department")

    created = _time(snapshot.get("created_at")) or now
    first_response = _time(snapshot.get("first_response_at"))
    status_since = _time(snapshot.get("status_changed_at")) or created
    facts["age_hours"] = _hours(created, now)
    facts["hours_since_update"] = _hours(_time(snapshot.get("updated_at")) or created, now)
    facts["working_hours_since_created"] = round(working_hours_between(created, now), 2)
    facts["has_first_response"] = first_response is not None and first_response <= now
    facts["days_in_status"] = round((now - status_since).total_seconds() / 86400, 2)

    ends = standing.contract_ends_on
    facts.update(
        {
            "customer.has_service_contract": standing.has_service_contract,
            # Unset once the contract has ended: "ends within 30 days" must not match a contract
            # that ended years ago.
            "customer.contract_ends_in_days": (ends - today).days
            if ends and ends >= today
            else None,
            "customer.has_unpaid_invoices": standing.has_unpaid_invoices,
            "customer.has_overdue_invoices": standing.has_overdue_invoices,
            "customer.unpaid_amount": standing.unpaid_amount,
            "customer.overdue_amount": standing.overdue_amount,
            "customer.unpaid_invoice_count": standing.unpaid_invoice_count,
            "customer.overdue_invoice_count": standing.overdue_invoice_count,
            "customer.pay_for_bug": standing.pay_for_bug,
            "customer.salesperson": standing.salesperson_username,
            "customer.salesperson_id": standing.salesperson_id,
        }
    )
    relevant = {name: change for name, change in changes.items() if name in CHANGEABLE}
    facts["event.type"] = event_type
    facts["event.changed_fields"] = sorted(relevant)
    facts["event.is_automatic"] = is_automatic
    message = changes.get("message") or {}
    for name in ("channel", "direction", "sender", "is_automatic"):
        facts[f"message.{name}"] = message.get(name)
    survey = changes.get("survey") or {}
    for name in ("score", "category", "customer_open_problems", "is_change"):
        facts[f"survey.{name}"] = survey.get(name)
    facts["survey.reason"] = survey.get("reason") or ""
    facts["changes"] = relevant
    return facts


def event_facts_item(event: TicketEvent) -> dict:
    """What ``facts_for_many`` needs to know of an event."""
    return {
        "ticket_id": event.ticket_id,
        "customer_id": event.ticket.customer_id,
        "snapshot": event.snapshot,
        "changes": event.changes,
        "event_type": event.type,
        "is_automatic": event.caused_by_id is not None or event.type == TicketEvent.Type.TIMER,
        "now": event.created_at,
    }


def facts_for_event(event: TicketEvent, *, customers: dict | None = None) -> dict:
    """Facts for routing one event (two queries, customer and invoices, and one per source).
    ``customers``, if given, receives the customer loaded for them, with its salesperson."""
    return facts_for_many([event_facts_item(event)], customers=customers)[0]


def facts_for_many(items: list[dict], *, customers: dict | None = None) -> list[dict]:
    """Facts for many (snapshot, changes, ...) items at once: a few queries however many.

    Each item has ``ticket_id``, ``customer_id``, ``snapshot``, ``changes``, ``event_type``,
    ``is_automatic`` and ``now``. ``customers``, if given, receives the customers loaded (by
    id, with their salespeople), so that what follows need not load them again. Dates
    (overdue invoices and follow-ups, days until the contract ends) are judged on the day of
    ``now`` in the company's time zone, so a late routing or a dry run over history decides as
    a prompt routing did.
    """
    if not items:
        return []
    days = [timezone.localdate(item["now"]) for item in items]
    book = StandingBook(customer_ids={i["customer_id"] for i in items}, since=min(days))
    if customers is not None:
        # The book's own rows: StandingBook has no accessor for them yet.
        customers.update(book._customers)
    all_facts = [
        build_facts(
            snapshot=item["snapshot"],
            changes=item["changes"],
            event_type=item["event_type"],
            is_automatic=item["is_automatic"],
            now=item["now"],
            standing=book.on(item["customer_id"], day),
            today=day,
        )
        for item, day in zip(items, days, strict=True)
    ]
    ticket_ids = [item["ticket_id"] for item in items]
    for source in FACT_SOURCES:
        for facts, extra in zip(all_facts, source.facts(ticket_ids, days), strict=True):
            facts.update(extra)
    return all_facts


def json_safe(value):
    """Facts as stored with a routing run: decimals as strings, everything else as it is."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value
