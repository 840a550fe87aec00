"""Evaluation of a rule's conditions against facts, with an explanation of each condition."""

from dataclasses import dataclass, field
from decimal import Decimal

from routing.engine.fields import FIELDS
from routing.engine.operators import OPERATORS


@dataclass
class Evaluation:
    matched: bool
    conditions: list[dict] = field(default_factory=list)


def _json_safe(value):
    return str(value) if isinstance(value, Decimal) else value


def _check(condition: dict, facts: dict) -> dict:
    spec = FIELDS[condition["field"]]
    actual = facts.get(spec.name)
    held = OPERATORS[spec.type][condition["operator"]](actual, condition["value"])
    return {**condition, "actual": _json_safe(actual), "held": held}


def evaluate_conditions(conditions: dict, facts: dict) -> Evaluation:
    """``all`` must all hold, and at least one of ``any`` when it is not empty.

    Every condition is evaluated (no short-circuit) so the explanation shows each actual value.
    """
    all_checks = [_check(c, facts) for c in conditions.get("all", [])]
    any_checks = [_check(c, facts) for c in conditions.get("any", [])]
    matched = all(c["held"] for c in all_checks) and (
        not any_checks or any(c["held"] for c in any_checks)
    )
    explained = [{**c, "group": "all"} for c in all_checks] + [
        {**c, "group": "any"} for c in any_checks
    ]
    return Evaluation(matched=matched, conditions=explained)
