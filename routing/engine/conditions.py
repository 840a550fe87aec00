"""Compiling rules for fast evaluation, and evaluating them with an explanation.

A compiled rule holds, per condition, the operator function and the value already in the shape
it needs (lists as sets are not needed: they are short). Evaluating a rule checks every
condition, not only until the first failure, so the explanation shows each actual value.
"""

from dataclasses import dataclass, field

from routing.engine.fields import FIELDS
from routing.engine.operators import CHANGE_OPERATORS, LABELS, NUMBER, as_number

GROUPS = ("all", "any")


@dataclass(frozen=True)
class CompiledCondition:
    group: str
    field: str
    operator: str
    value: object
    test: object  # Callable[[object, object], bool]
    on_change: bool

    def holds(self, facts: dict) -> bool:
        if self.on_change:
            return self.test(facts.get("changes", {}).get(self.field), self.value)
        return self.test(facts.get(self.field), self.value)

    def actual(self, facts: dict):
        if self.on_change:
            return facts.get("changes", {}).get(self.field)
        return facts.get(self.field)


@dataclass(frozen=True)
class CompiledRule:
    id: int
    version: int
    name: str
    order: int
    trigger: str
    stop_processing: bool
    actions: tuple
    conditions: tuple[CompiledCondition, ...] = field(default=())
    # The RuleVersion row of ``version``, which a match records (None for a rule written
    # without the services, which has none).
    version_id: int | None = None
    all_conditions: tuple[tuple[int, CompiledCondition], ...] = field(default=(), repr=False)
    any_conditions: tuple[tuple[int, CompiledCondition], ...] = field(default=(), repr=False)

    def __post_init__(self):
        indexed = list(enumerate(self.conditions))
        object.__setattr__(self, "all_conditions", tuple(c for c in indexed if c[1].group == "all"))
        object.__setattr__(self, "any_conditions", tuple(c for c in indexed if c[1].group == "any"))

    def evaluate(self, facts: dict) -> tuple[bool, list[bool | None]]:
        """Whether the rule matches, and whether each condition held (in definition order).

        Evaluation stops as soon as the outcome is known, as a thousand rules must be cheap;
        a condition left unchecked is None. The explanation checks those later against the
        stored facts, so nothing is lost.
        """
        held: list[bool | None] = [None] * len(self.conditions)
        for index, condition in self.all_conditions:
            result = held[index] = condition.holds(facts)
            if not result:
                return False, held
        if not self.any_conditions:
            return True, held
        for index, condition in self.any_conditions:
            result = held[index] = condition.holds(facts)
            if result:
                return True, held
        return False, held


def compile_conditions(conditions: dict) -> tuple[CompiledCondition, ...]:
    compiled = []
    for group in GROUPS:
        for condition in conditions.get(group, []):
            spec = FIELDS[condition["field"]]
            operator = condition["operator"]
            on_change = operator in CHANGE_OPERATORS
            value = condition.get("value")
            if spec.type == NUMBER and not on_change and value is not None:
                value = as_number(value)  # converted once, not on every evaluation
            compiled.append(
                CompiledCondition(
                    group=group,
                    field=spec.name,
                    operator=operator,
                    value=value,
                    test=CHANGE_OPERATORS[operator] if on_change else spec.operators[operator],
                    on_change=on_change,
                )
            )
    return tuple(compiled)


def compile_rule(
    *, id, version, name, order, trigger, stop_processing, conditions, actions, version_id=None
):
    return CompiledRule(
        id=id,
        version=version,
        version_id=version_id,
        name=name,
        order=order,
        trigger=trigger,
        stop_processing=stop_processing,
        actions=tuple(actions),
        conditions=compile_conditions(conditions),
    )


def explain_conditions(conditions: dict, held: list[bool], facts: dict) -> list[dict]:
    """Each condition of a definition with whether it held and the value it was tested on."""
    from routing.engine.facts import json_safe

    explained = []
    compiled = compile_conditions(conditions)
    for index, condition in enumerate(compiled):
        result = held[index] if index < len(held) else None
        explained.append(
            {
                "group": condition.group,
                "field": condition.field,
                "operator": condition.operator,
                "value": json_safe(condition.value),
                "actual": json_safe(condition.actual(facts)),
                # Conditions the engine did not need to check are checked here, on the facts
                # it stored; "checked" says which were.
                "held": condition.holds(facts) if result is None else result,
                "checked": result is not None,
                "text": describe_condition(condition),
                "actual_text": describe_value(
                    condition.actual(facts), FIELDS[condition.field], change=condition.on_change
                ),
            }
        )
    return explained


def describe_value(value, field=None, *, change: bool = False) -> str:
    """A value as a person reads it: yes/no, "not set", lists joined, choices by their label
    ("Bug report", not "bug"), and a change ``[old, new]`` as old → new.

    Only the caller knows whether a value is a change (the condition's operator says so): a
    two-item list may just as well be a field's value, such as two tags.
    """
    if value is None:
        return "not set"
    if change and isinstance(value, list | tuple) and len(value) == 2:
        return " → ".join(describe_value(item, field) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(describe_value(item, field) for item in value) or "none"
    if field is not None and field.choice_labels:
        return field.label_of(value)
    return str(value)


def describe_condition(condition: CompiledCondition) -> str:
    """The condition in words, with choice values by their label: "Kind is Bug report"."""
    spec = FIELDS[condition.field]
    operator = LABELS.get(condition.operator, condition.operator)
    if condition.value is None:
        return f"{spec.label} {operator}"
    value = condition.value
    if isinstance(value, list):
        value = ", ".join(spec.label_of(item) for item in value)
    elif isinstance(value, bool):
        value = "yes" if value else "no"
    else:
        value = spec.label_of(value)
    return f"{spec.label} {operator} {value}"


def evaluate_conditions(conditions: dict, facts: dict):
    """Evaluate an uncompiled definition: (matched, explanation). For previews and tests."""
    rule = CompiledRule(0, 0, "", 0, "", False, (), compile_conditions(conditions))
    matched, held = rule.evaluate(facts)
    return matched, explain_conditions(conditions, held, facts)
