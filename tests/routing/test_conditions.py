"""Unit tests of rule evaluation: operators, all/any groups and the explanation they give."""

from decimal import Decimal

import pytest

from routing.engine.conditions import evaluate_conditions
from routing.engine.operators import contains_phrase

FACTS = {
    "kind": "bug",
    "channel": "phone",
    "priority": "high",
    "status": "new",
    "product": "Reports",
    "subject": "Box DAMAGED in transit",
    "description": "The undamaged spare was fine.",
    "text": "Box DAMAGED in transit\nThe undamaged spare was fine.",
    "customer.has_service_contract": True,
    "customer.has_unpaid_invoices": False,
    "customer.has_overdue_invoices": False,
    "customer.pay_for_bug": False,
    "customer.unpaid_amount": Decimal("250.00"),
    "customer.overdue_amount": Decimal("0.00"),
}


def cond(field, operator, value):
    return {"field": field, "operator": operator, "value": value}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (cond("kind", "is", "bug"), True),
        (cond("kind", "is", "rfe"), False),
        (cond("kind", "is_not", "rfe"), True),
        (cond("kind", "is_not", "bug"), False),
        (cond("channel", "in", ["email", "phone"]), True),
        (cond("channel", "in", ["email", "web"]), False),
        (cond("priority", "not_in", ["low", "normal"]), True),
        (cond("priority", "not_in", ["high"]), False),
        (cond("subject", "contains", "damaged"), True),
        (cond("subject", "contains", "damaged in   transit"), True),
        (cond("description", "contains", "damaged"), False),  # "undamaged" is another word
        (cond("subject", "not_contains", "broken"), True),
        (cond("subject", "not_contains", "box"), False),
        (cond("text", "contains_any", ["missing", "transit"]), True),
        (cond("text", "contains_any", ["missing", "lost"]), False),
        (cond("product", "is", "reports"), True),
        (cond("product", "is_not", "Portal"), True),
        (cond("product", "is_set", True), True),
        (cond("product", "is_set", False), False),
        (cond("customer.has_service_contract", "is", True), True),
        (cond("customer.has_unpaid_invoices", "is", True), False),
        (cond("customer.has_overdue_invoices", "is", False), True),
        (cond("customer.pay_for_bug", "is", True), False),
        (cond("customer.unpaid_amount", "gt", 100), True),
        (cond("customer.unpaid_amount", "gt", 250), False),
        (cond("customer.unpaid_amount", "gte", 250), True),
        (cond("customer.unpaid_amount", "lt", 250.5), True),
        (cond("customer.unpaid_amount", "lte", 249), False),
        (cond("customer.unpaid_amount", "is", 250), True),
        (cond("customer.overdue_amount", "is", 0), True),
    ],
)
def test_each_operator(condition, expected):
    result = evaluate_conditions({"all": [condition]}, FACTS)
    assert result.matched is expected
    assert result.conditions[0]["held"] is expected


def test_all_requires_every_condition():
    conditions = {"all": [cond("kind", "is", "bug"), cond("channel", "is", "email")]}
    assert evaluate_conditions(conditions, FACTS).matched is False


def test_any_requires_one_condition():
    conditions = {"any": [cond("kind", "is", "rma"), cond("channel", "is", "phone")]}
    assert evaluate_conditions(conditions, FACTS).matched is True
    conditions = {"any": [cond("kind", "is", "rma"), cond("channel", "is", "web")]}
    assert evaluate_conditions(conditions, FACTS).matched is False


def test_all_and_any_combine():
    conditions = {
        "all": [cond("kind", "is", "bug")],
        "any": [cond("channel", "is", "web"), cond("priority", "is", "high")],
    }
    assert evaluate_conditions(conditions, FACTS).matched is True
    conditions["all"] = [cond("kind", "is", "rfe")]
    assert evaluate_conditions(conditions, FACTS).matched is False


def test_no_conditions_always_match():
    assert evaluate_conditions({}, FACTS).matched is True


def test_explanation_gives_actual_values_of_every_condition():
    conditions = {
        "all": [cond("kind", "is", "rfe"), cond("customer.unpaid_amount", "gt", 10)],
    }
    result = evaluate_conditions(conditions, FACTS)
    assert result.matched is False
    assert result.conditions == [
        {
            "field": "kind",
            "operator": "is",
            "value": "rfe",
            "actual": "bug",
            "held": False,
            "group": "all",
        },
        {
            "field": "customer.unpaid_amount",
            "operator": "gt",
            "value": 10,
            "actual": "250.00",
            "held": True,
            "group": "all",
        },
    ]


@pytest.mark.parametrize(
    ("text", "phrase", "expected"),
    [
        ("Arrived BROKEN", "arrived broken", True),
        ("arrived\n broken", "arrived broken", True),
        ("the shipment arrived; broken", "arrived broken", False),
        ("missing-parts", "missing", True),
        ("a (damaged) box", "damaged", True),
        ("", "damaged", False),
        ("anything", "   ", False),
    ],
)
def test_contains_phrase_matches_whole_words(text, phrase, expected):
    assert contains_phrase(text, phrase) is expected
