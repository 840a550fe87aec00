"""Filling a reply template's placeholders for one ticket: plain substitution, nothing else
(the text is the rep's to edit before sending; no template language runs)."""

import re

from accounts.models import User
from conversations.models import ReplyTemplate
from tickets.models import Ticket

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_.]+)\s*\}\}")
PLACEHOLDERS = ("contact.name", "customer.name", "ticket.reference", "ticket.subject", "rep.name")


# Anything written as a placeholder: {{ Contact.Name }} and {{ contact.name|title }} fill in
# nothing, and would reach the customer as they are written.
_ANY_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def unknown_placeholders(body: str) -> list[str]:
    written = {" ".join(inner.split()) for inner in _ANY_PLACEHOLDER.findall(body)}
    return sorted(name for name in written if name not in PLACEHOLDERS)


def values_for(*, ticket: Ticket, rep: User) -> dict[str, str]:
    contact = ticket.contact
    return {
        "contact.name": (contact.name if contact else "") or "there",
        "customer.name": ticket.customer.name,
        "ticket.reference": ticket.reference,
        "ticket.subject": ticket.subject,
        "rep.name": rep.get_full_name() or rep.username,
    }


def render(body: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), body)


def templates_filled_in(*, ticket: Ticket, rep: User) -> list[dict]:
    """The active reply templates, each with its text filled in for this ticket and rep."""
    values = values_for(ticket=ticket, rep=rep)
    return [
        {"id": template.pk, "name": template.name, "body": render(template.body, values)}
        for template in ReplyTemplate.objects.filter(is_active=True)
    ]
