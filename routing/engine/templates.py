"""Message templates in rules: Django template syntax over plain values, never model objects.

Admins write templates such as ``{{ ticket.reference }} for {{ customer.name }}``. The context
holds dictionaries of chosen values only, so a template cannot reach into related rows.
"""

import logging

from django.template import Context, Engine, TemplateSyntaxError

logger = logging.getLogger(__name__)


class _MessageEngine(Engine):
    default_builtins = ["django.template.defaultfilters", "routing.engine.template_tags"]


_engine = _MessageEngine(autoescape=False, debug=False)

# What validation renders each template with, so that errors which only show when rendering
# (a filter given the wrong argument) are found when the rule is saved, not when it fires.
_SAMPLE_CONTEXT = {
    "ticket": {
        "reference": "T-1",
        "subject": "Subject",
        "description": "Description",
        "kind": "Bug report",
        "status": "New",
        "priority": "Normal",
        "product": "Product",
        "rma_number": "",
    },
    "customer": {"name": "Customer"},
    "contact": {"name": "Contact", "email": "contact@example.com"},
    "salesperson": {"name": "Salesperson"},
    "rule": {"name": "Rule"},
    "event": {"type": "ticket.created"},
}

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
        _engine.from_string(text).render(Context(_SAMPLE_CONTEXT, autoescape=False))
    except TemplateSyntaxError as exc:
        return f"Template error: {exc}"
    except Exception as exc:  # any other failure to render is as much the template's fault
        return f"Template error: {type(exc).__name__}: {exc}"
    return None


def render(text: str, context: dict) -> str:
    """The rendered text; a template that fails anyway is sent as written, never blocking the
    rule's other actions or the other rules of the event."""
    try:
        return _engine.from_string(text).render(Context(context, autoescape=False)).strip()
    except Exception:
        logger.exception("Rule message template failed to render: %r", text)
        return text.strip()


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
