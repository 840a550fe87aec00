"""Export and import of the whole rule set as JSON, so rules can be reviewed like code.

The export lists every current rule in evaluation order with exactly the fields an admin edits.
An import validates every rule first and changes nothing if one is invalid; then it makes the
current rule set equal to the file: rules are matched by name, updated (a new version only when
something changed), created, and those not in the file are archived.
"""

from django.db import transaction

from accounts.models import User
from routing import services
from routing.engine.validation import rule_definition_errors
from routing.models import Rule, RuleAuditEntry
from routing.models.rules import EDITABLE_FIELDS
from routing.selectors import rules_list

FORMAT = "switchboard.rules"
FORMAT_VERSION = 1


def rules_export() -> dict:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "rules": [services.rule_state(rule) for rule in rules_list()],
    }


class RuleSetInvalid(Exception):
    """The imported rule set has errors, keyed by their place (``rules[2].actions[0].type``)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("The rule set is invalid; nothing was changed.")
        self.errors = errors


def _errors(data) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(path, message):
        errors.setdefault(path, []).append(message)

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        add("format", f'Must be "{FORMAT}".')
        return errors
    if data.get("version") != FORMAT_VERSION:
        add("version", f"Must be {FORMAT_VERSION}.")
    rules = data.get("rules")
    if not isinstance(rules, list):
        add("rules", "Must be a list of rules.")
        return errors
    names = set()
    triggers = set(Rule.Trigger.values)
    for index, rule in enumerate(rules):
        path = f"rules[{index}]"
        if not isinstance(rule, dict):
            add(path, "Must be an object.")
            continue
        for key in sorted(set(rule) - set(EDITABLE_FIELDS)):
            add(f"{path}.{key}", "Unknown key.")
        name = rule.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200 or "\x00" in name:
            add(f"{path}.name", "Must be non-empty text of at most 200 characters.")
        elif name in names:
            add(f"{path}.name", f"Another rule is also named {name!r}.")
        else:
            names.add(name)
        trigger = rule.get("trigger")
        if not isinstance(trigger, str) or trigger not in triggers:
            add(f"{path}.trigger", f"Must be one of {', '.join(sorted(triggers))}.")
        for key in ("is_active", "stop_processing"):
            if key in rule and not isinstance(rule[key], bool):
                add(f"{path}.{key}", "Must be true or false.")
        order = rule.get("order", 0)
        if isinstance(order, bool) or not isinstance(order, int) or order < 0:
            add(f"{path}.order", "Must be a whole number, 0 or more.")
        description = rule.get("description", "")
        if not isinstance(description, str) or "\x00" in description:
            add(f"{path}.description", "Must be text (without NUL characters).")
        for found_path, message in rule_definition_errors(
            conditions=rule.get("conditions", {}),
            actions=rule.get("actions"),
            trigger=rule.get("trigger"),
        ):
            add(f"{path}.{found_path}", message)
    return errors


@transaction.atomic
def rules_import(data, *, author: User | None = None) -> dict:
    """Make the current rule set equal to ``data``; ``RuleSetInvalid`` if anything is wrong."""
    errors = _errors(data)
    if errors:
        raise RuleSetInvalid(errors)
    current = {rule.name: rule for rule in rules_list().select_for_update()}
    created = updated = 0
    for definition in data["rules"]:
        fields = {
            "description": "",
            "is_active": True,
            "order": 100,
            "conditions": {},
            "stop_processing": False,
            **definition,
        }
        existing = current.pop(fields["name"], None)
        if existing is None:
            services.rule_create(author=author, **fields)
            created += 1
            continue
        before = services.rule_state(existing)
        saved = services.rule_update(rule=existing, author=author, summary="Imported", **fields)
        # Changed in any way: its definition (a new version) or its place or switch (audited).
        updated += int(services.rule_state(saved) != before)
    for rule in current.values():
        services.rule_archive(rule=rule, author=author, detail="Not in the imported rule set")
    result = {"created": created, "updated": updated, "archived": len(current)}
    # One entry for the whole set, so the list says when the rules were last replaced and by whom.
    services.rule_audit_record(
        action=RuleAuditEntry.Action.IMPORTED,
        author=author,
        detail=f"{created} created, {updated} updated, {len(current)} archived",
    )
    return result
