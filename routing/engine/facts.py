"""The facts a rule is evaluated against: the ticket as the event recorded it, and its customer."""

from accounts.selectors import customer_standing
from tickets.models import TicketEvent


def facts_for_event(event: TicketEvent) -> dict:
    """Flat facts keyed by condition field name (one query for the customer's standing)."""
    snapshot = event.snapshot
    facts = {name: snapshot.get(name) for name in ("kind", "channel", "priority", "status")}
    for name in ("product", "subject", "description"):
        facts[name] = snapshot.get(name) or ""
    facts["text"] = f"{facts['subject']}\n{facts['description']}"
    standing = customer_standing(customer_id=event.ticket.customer_id)
    facts.update(
        {
            "customer.has_service_contract": standing.has_service_contract,
            "customer.has_unpaid_invoices": standing.has_unpaid_invoices,
            "customer.has_overdue_invoices": standing.has_overdue_invoices,
            "customer.pay_for_bug": standing.pay_for_bug,
            "customer.unpaid_amount": standing.unpaid_amount,
            "customer.overdue_amount": standing.overdue_amount,
            "customer.salesperson_id": standing.salesperson_id,
        }
    )
    return facts
