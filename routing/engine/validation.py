"""Validation of rule definitions, reporting each problem at its exact place.

Errors are ``(path, message)`` pairs such as ``("conditions.all[2].value", "...")``; the API
answers them as field errors under that path, the admin and the editor show them the same way.
"""

from django.core.exceptions import ValidationError

from accounts.models import Department, User
from routing.engine.fields import FIELDS
from routing.engine.operators import (
    BOOL,
    CHANGE_OPERATORS,
    CHOICE,
    DEPARTMENT,
    LIST_OPERATORS,
    NO_VALUE_OPERATORS,
    NUMBER,
    TAGS,
    TEXT,
    USER,
)

ErrorList = list[tuple[str, str]]
GROUPS = ("all", "any")
TIME_TRIGGER = "time"
# How deep a definition's JSON may nest. The deepest a valid one goes is four ("conditions" >
# "all" > a condition > a list value); anything far deeper is refused before the recursive checks
# below (and DRF's, and the JSON encoder's) run out of stack on it.
MAX_DEPTH = 8


def condition_errors(conditions, *, trigger: str | None = None) -> ErrorList:
    if not isinstance(conditions, dict):
        return [("conditions", 'Must be an object such as {"all": [...], "any": [...]}.')]
    errors: ErrorList = [
        (f"conditions.{key}", 'Unknown group; use "all" or "any".')
        for key in conditions
        if key not in GROUPS
    ]
    for group in GROUPS:
        items = conditions.get(group, [])
        if not isinstance(items, list):
            errors.append((f"conditions.{group}", "Must be a list of conditions."))
            continue
        for index, item in enumerate(items):
            errors.extend(_one_condition_errors(item, f"conditions.{group}[{index}]", trigger))
    return errors


def _one_condition_errors(item, path: str, trigger: str | None) -> ErrorList:
    if not isinstance(item, dict):
        return [(path, 'Must be an object with "field", "operator" and "value".')]
    unknown = set(item) - {"field", "operator", "value"}
    if unknown:
        return [(f"{path}.{sorted(unknown)[0]}", "Unknown key.")]
    name = item.get("field")
    field = FIELDS.get(name) if isinstance(name, str) else None
    if field is None:
        return [(f"{path}.field", f"Unknown field {item.get('field')!r}.")]
    operator = item.get("operator")
    if not isinstance(operator, str) or operator not in field.operators:
        allowed = ", ".join(field.operators)
        return [
            (f"{path}.operator", f"{operator!r} does not apply to {field.name}; use {allowed}.")
        ]
    if trigger == TIME_TRIGGER and (operator in CHANGE_OPERATORS or field.group == "event"):
        return [(f"{path}.operator", "Time-based rules have no event: changes cannot be tested.")]
    if operator in NO_VALUE_OPERATORS:
        if item.get("value") is not None:
            return [(f"{path}.value", f"{operator!r} takes no value.")]
        return []
    if "value" not in item:
        return [(f"{path}.value", "This field is required.")]
    message = _value_error(field, operator, item["value"])
    return [(f"{path}.value", message)] if message else []


def _value_error(field, operator: str, value) -> str | None:
    if field.type == BOOL:
        return None if isinstance(value, bool) else "Must be true or false."
    if operator in LIST_OPERATORS:
        if not isinstance(value, list) or not value:
            return "Must be a non-empty list."
        for item in value:
            message = _scalar_error(field, item)
            if message:
                return f"{item!r}: {message}"
        return None
    return _scalar_error(field, value)


def _scalar_error(field, value) -> str | None:
    if field.type == CHOICE:
        if not isinstance(value, str) or value not in field.choices:
            return f"Must be one of {', '.join(field.choices)}."
    elif field.type in (TEXT, TAGS):
        if not isinstance(value, str) or not value.strip():
            return "Must be non-empty text."
    elif field.type == NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "Must be a number."
    elif field.type == USER:
        if not isinstance(value, str) or not User.objects.filter(username=value).exists():
            return f"No user with username {value!r}."
    elif field.type == DEPARTMENT:
        if not isinstance(value, str) or not Department.objects.filter(slug=value).exists():
            return f"No department with slug {value!r}."
    return None


def action_errors(actions) -> ErrorList:
    from routing.engine.actions import ACTIONS

    if not isinstance(actions, list) or not actions:
        return [("actions", "Must be a non-empty list of actions.")]
    errors: ErrorList = []
    for index, action in enumerate(actions):
        path = f"actions[{index}]"
        if not isinstance(action, dict):
            errors.append((path, 'Must be an object with a "type".'))
            continue
        kind = action.get("type")
        spec = ACTIONS.get(kind) if isinstance(kind, str) else None
        if spec is None:
            message = f"Unknown action {action.get('type')!r}; use {', '.join(ACTIONS)}."
            errors.append((f"{path}.type", message))
            continue
        errors.extend(spec.validate(action, path))
    return errors


def nul_errors(value, path: str) -> ErrorList:
    """Text holding a NUL character, which PostgreSQL cannot store or even look up."""
    if isinstance(value, str):
        return [(path, "Text may not contain NUL characters.")] if "\x00" in value else []
    if isinstance(value, dict):
        return [e for key, item in value.items() for e in nul_errors(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [e for index, item in enumerate(value) for e in nul_errors(item, f"{path}[{index}]")]
    return []


def depth(value) -> int:
    """How deep ``value`` nests lists and objects (a scalar is 0), without recursion: a body
    hundreds of levels deep must not exhaust the stack merely being measured."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level + 1)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def depth_errors(value, path: str, *, limit: int = MAX_DEPTH, steps: int = 3) -> ErrorList:
    """An error at the place, up to ``steps`` levels down, whose value nests too deep, e.g.
    ``conditions.all[0].value``; none when ``value`` nests at most ``limit`` deep."""
    if depth(value) <= limit:
        return []
    for _ in range(steps):
        limit -= 1
        if isinstance(value, dict):
            pairs = [(f"{path}.{key}", item) for key, item in value.items()]
        elif isinstance(value, list):
            pairs = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
        else:
            break
        found = next(((place, item) for place, item in pairs if depth(item) > limit), None)
        if found is None:
            break
        path, value = found
    return [(path, f"Nests too deep: at most {MAX_DEPTH} levels of lists and objects.")]


def rule_definition_errors(*, conditions, actions, trigger: str | None = None) -> ErrorList:
    deep = depth_errors(conditions, "conditions") + depth_errors(actions, "actions", steps=2)
    if deep:
        return deep
    nuls = nul_errors(conditions, "conditions") + nul_errors(actions, "actions")
    if nuls:
        return nuls
    return condition_errors(conditions, trigger=trigger) + action_errors(actions)


def validate_rule_definition(*, conditions, actions, trigger: str | None = None) -> None:
    """Raise a ``ValidationError`` keyed by model field, each message prefixed by its place."""
    errors = rule_definition_errors(conditions=conditions, actions=actions, trigger=trigger)
    if errors:
        by_field: dict[str, list[str]] = {}
        for path, message in errors:
            field = "conditions" if path.startswith("conditions") else "actions"
            by_field.setdefault(field, []).append(f"{path}: {message}")
        raise ValidationError(by_field)
