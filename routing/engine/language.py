"""A description of the rule language for the editor: fields, operators, actions and the
people, teams and webhooks a value can name. Built from the registries, so it never drifts."""

from accounts.models import Department, User
from routing.engine.actions import ACTIONS
from routing.engine.delivery_actions import RECIPIENTS
from routing.engine.fields import FIELDS
from routing.engine.operators import (
    CHANGE_OPERATORS,
    LABELS,
    LIST_OPERATORS,
    NO_VALUE_OPERATORS,
)
from routing.engine.templates import PLACEHOLDERS
from routing.models import Rule, Webhook
from tickets.models import Ticket

# How the editor and the dry run name who an email goes to.
RECIPIENT_LABELS = {
    "contact": "The ticket's contact",
    "department": "A department's members",
    "salesperson": "The customer's salesperson",
}

# The parameters each action takes, for the editor's widgets. Choices are stored as their
# values and shown by their labels.
ACTION_PARAMETERS = {
    "notify_department": [
        {"name": "department", "type": "department", "required": True},
        {"name": "message", "type": "template", "required": False},
    ],
    "create_followup": [
        {"name": "due_in_working_days", "type": "number", "required": True},
        {"name": "reason", "type": "template", "required": False},
    ],
    "assign": [
        {"name": "user", "type": "user", "required": False},
        {"name": "department", "type": "department", "required": False},
    ],
    "set_priority": [
        {"name": "priority", "type": "choice", "required": True,
         "choices": list(Ticket.Priority.values),
         "choice_labels": dict(Ticket.Priority.choices)},
    ],
    "add_tag": [{"name": "tag", "type": "text", "required": True}],
    "send_email": [
        {"name": "to", "type": "choice", "required": True, "choices": list(RECIPIENTS),
         "choice_labels": {name: RECIPIENT_LABELS[name] for name in RECIPIENTS}},
        {"name": "department", "type": "department", "required": False},
        {"name": "subject", "type": "template", "required": True},
        {"name": "body", "type": "template", "required": True},
    ],
    "call_webhook": [{"name": "webhook", "type": "webhook", "required": True}],
}  # fmt: skip


def _operator(name: str) -> dict:
    return {
        "name": name,
        "label": LABELS.get(name, name),
        "takes_value": name not in NO_VALUE_OPERATORS,
        "list": name in LIST_OPERATORS,
        "on_change": name in CHANGE_OPERATORS,
    }


def language_description() -> dict:
    return {
        "triggers": [{"value": v, "label": label} for v, label in Rule.Trigger.choices],
        "fields": [
            {
                "name": field.name,
                "label": field.label,
                "group": field.group,
                "type": field.type,
                "choices": list(field.choices),
                "choice_labels": dict(field.choice_labels),
                "help": field.help,
                "operators": [_operator(name) for name in field.operators],
            }
            for field in FIELDS.values()
        ],
        "actions": [
            {"type": name, "label": spec.label, "parameters": ACTION_PARAMETERS.get(name, [])}
            for name, spec in ACTIONS.items()
        ],
        "departments": list(Department.objects.order_by("name").values("slug", "name")),
        "users": [
            {"username": user.username, "name": str(user)}
            for user in User.objects.filter(is_active=True).order_by("username")
        ],
        "webhooks": list(Webhook.objects.filter(is_active=True).values_list("name", flat=True)),
        "placeholders": PLACEHOLDERS,
    }
