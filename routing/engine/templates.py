"""Message templates in rules: Django template syntax over plain values, never model objects.

Admins write templates such as ``{{ ticket.reference }} for {{ customer.name }}``. The context
holds dictionaries of chosen values only, so a template cannot reach into related rows.
"""

from django.template import Context, Engine, TemplateSyntaxError

_engine = Engine(autoescape=False, debug=False)

PLACEHOLDERS = [
    "ticket.reference",
    "ticket.subject",
    "ticket.description",
    "ticket.kind",
    "ticket.status",
    "ticket.priority",
    "ticket.product",
    "ticket.rma_number",
    "customer.name",
    "contact.name",
    "contact.email",
    "salesperson.name",
    "rule.name",
    "event.type",
]


def template_error(text) -> str | None:
    if not isinstance(text, str):
        return "Must be text."
    try:
        _engine.from_string(text)
    except TemplateSyntaxError as exc:
        return f"Template error: {exc}"
    return None


def render(text: str, context: dict) -> str:
    return _engine.from_string(text).render(Context(context, autoescape=False)).strip()


def template_context(*, ticket, rule_name: str, event_type: str) -> dict:
    customer = ticket.customer
    contact = ticket.contact
    salesperson = customer.salesperson
    return {
        "ticket": {
            "reference": ticket.reference,
            "subject": ticket.subject,
            "description": ticket.description,
            "kind": ticket.get_kind_display(),
            "status": ticket.get_status_display(),
            "priority": ticket.get_priority_display(),
            "product": ticket.product,
            "rma_number": ticket.rma_number or "",
        },
        "customer": {"name": customer.name},
        "contact": {"name": contact.name, "email": contact.email} if contact else {},
        "salesperson": {"name": str(salesperson)} if salesperson else {},
        "rule": {"name": rule_name},
        "event": {"type": event_type},
    }
