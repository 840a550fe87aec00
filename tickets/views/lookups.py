"""What the Log-a-call form asks while the rep types: who is calling, and their standing."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.selectors import (
    contract_state,
    customer_matches,
    customers_with_standing,
    standing_from_annotated,
)
from tickets.selectors import REFERENCE, customer_tickets, ticket_id_from_reference, tickets_brief


@login_required
@require_GET
def customer_lookup(request):
    """Customers matching what was typed: name, contact name, email, phone or a T-number."""
    query = request.GET.get("q", "")
    results = []
    if REFERENCE.match(query):
        ticket = tickets_brief().filter(pk=ticket_id_from_reference(query)).first()
        if ticket is not None:
            results.append(_match(ticket.customer, None, f"{ticket.reference}: {ticket.subject}"))
    results += [
        _match(customer, contact, None)
        for customer, contact in customer_matches(query=query, limit=8 - len(results))
    ]
    return JsonResponse({"results": results})


def _match(customer, contact, via: str | None) -> dict:
    if contact is not None:
        via = " · ".join(part for part in (contact.name, contact.email, contact.phone) if part)
    return {
        "customer": customer.pk,
        "name": customer.name,
        "contact": contact.pk if contact else None,
        "via": via or "",
    }


@login_required
@require_GET
def customer_standing_panel(request, pk: int):
    """What the rep must know about the customer while they talk (an HTML fragment)."""
    today = timezone.localdate()
    customer = get_object_or_404(customers_with_standing(today=today), pk=pk)
    context = {
        "customer": customer,
        "standing": standing_from_annotated(customer, today),
        "contract": contract_state(customer, today=today),
        "tickets": customer_tickets(customer_id=customer.pk),
        "contacts": customer.contacts.order_by("name"),
        "linkable": request.GET.get("linkable") == "1",
    }
    return render(request, "components/customer_standing.html", context)
