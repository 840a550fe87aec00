"""A description of the rule language for the editor: fields, operators, actions and the
people, teams and webhooks a value can name. Built from the registries, so it never drifts."""

from accounts.models import Department, User
from routing.engine.actions import ACTIONS
from routing.engine.fields import FIELDS
from routing.engine.operators import (
    CHANGE_OPERATORS,
    LABELS,
    LIST_OPERATORS,
    NO_VALUE_OPERATORS,
)
from routing.engine.templates import PLACEHOLDERS
from routing.models import Rule


def _operator(name: str) -> dict:
    return {
        "name": name,
        "label": LABELS.get(name, name),
        "takes_value": name not in NO_VALUE_OPERATORS,
        "list": name in LIST_OPERATORS,
        "on_change": name in CHANGE_OPERATORS,
    }


def language_description() -> dict:
    description = {
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
            {"type": name, "label": spec.label, "parameters": list(spec.parameters)}
            for name, spec in ACTIONS.items()
        ],
        "departments": list(Department.objects.order_by("name").values("slug", "name")),
        "users": [
            {"username": user.username, "name": str(user)}
            for user in User.objects.filter(is_active=True).order_by("username")
        ],
        "placeholders": PLACEHOLDERS,
    }
    for spec in ACTIONS.values():
        if spec.vocabulary is not None:
            description.update(spec.vocabulary())
    return description
