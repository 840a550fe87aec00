"""Unit tests of rule evaluation: every field and operator, all/any, and the explanation."""

from decimal import Decimal

import pytest

from routing.engine.conditions import evaluate_conditions
from routing.engine.fields import FIELDS
from routing.engine.operators import CHANGE_OPERATORS, contains_phrase

FACTS = {
    "kind": "bug",
    "channel": "phone",
    "priority": "high",
    "status": "pending",
    "product": "Reports",
    "subject": "Box DAMAGED in transit",
    "description": "The undamaged spare was fine.",
    "text": "Box DAMAGED in transit\nThe undamaged spare was fine.",
    "tags": ["vip", "billing"],
    "assignee": "erin",
    "department": None,
    "age_hours": 30.5,
    "hours_since_update": 2.0,
    "working_hours_since_created": 9.0,
    "has_first_response": False,
    "days_in_status": 4.5,
    "followup_overdue": True,
    "customer.has_service_contract": True,
    "customer.contract_ends_in_days": 20,
    "customer.has_unpaid_invoices": False,
    "customer.has_overdue_invoices": False,
    "customer.unpaid_amount": Decimal("250.00"),
    "customer.overdue_amount": Decimal("0.00"),
    "customer.unpaid_invoice_count": 2,
    "customer.overdue_invoice_count": 0,
    "customer.pay_for_bug": False,
    "customer.salesperson": "sally",
    "event.type": "ticket.updated",
    "event.changed_fields": ["assignee", "department", "priority", "status", "tags"],
    "event.is_automatic": False,
    "message.channel": "email",
    "message.direction": "in",
    "message.sender": "contact",
    "message.is_automatic": False,
    "survey.score": 3,
    "survey.category": "detractor",
    "survey.reason": "The replacement part came late",
    "survey.customer_open_problems": 0,
    "survey.is_change": False,
    "changes": {
        "status": ["open", "pending"],
        "priority": ["normal", "high"],
        "tags": [["billing", "legal"], ["billing", "vip"]],
        "assignee": [None, "erin"],
        "department": ["engineering", None],
    },
}


def cond(field, operator, value=None):
    condition = {"field": field, "operator": operator}
    if value is not None:
        condition["value"] = value
    return condition


CASES = [
    # choice
    (cond("kind", "is", "bug"), True),
    (cond("kind", "is", "rfe"), False),
    (cond("kind", "is_not", "rfe"), True),
    (cond("kind", "is_not", "bug"), False),
    (cond("channel", "in", ["email", "phone"]), True),
    (cond("channel", "in", ["email", "web"]), False),
    (cond("priority", "not_in", ["low", "normal"]), True),
    (cond("priority", "not_in", ["high"]), False),
    (cond("status", "is", "pending"), True),
    # text, whole words, case-insensitive
    (cond("subject", "contains", "damaged"), True),
    (cond("subject", "contains", "damaged in   transit"), True),
    (cond("description", "contains", "damaged"), False),
    (cond("subject", "not_contains", "broken"), True),
    (cond("subject", "not_contains", "box"), False),
    (cond("text", "contains_any", ["missing", "transit"]), True),
    (cond("text", "contains_any", ["missing", "lost"]), False),
    (cond("product", "is", "reports"), True),
    (cond("product", "is_not", "Portal"), True),
    (cond("product", "is_set"), True),
    (cond("product", "is_not_set"), False),
    # tags
    (cond("tags", "contains", "VIP"), True),
    (cond("tags", "contains", "legal"), False),
    (cond("tags", "not_contains", "legal"), True),
    (cond("tags", "contains_any", ["legal", "billing"]), True),
    (cond("tags", "contains_any", ["legal"]), False),
    (cond("tags", "is_set"), True),
    # people and teams
    (cond("assignee", "is", "erin"), True),
    (cond("assignee", "in", ["eli", "erin"]), True),
    (cond("assignee", "not_in", ["erin"]), False),
    (cond("assignee", "is_not_set"), False),
    (cond("department", "is_not_set"), True),
    (cond("department", "is", "engineering"), False),
    (cond("department", "is_not", "engineering"), True),
    (cond("customer.salesperson", "is", "sally"), True),
    (cond("customer.salesperson", "is_set"), True),
    # numbers, including a missing one
    (cond("age_hours", "gt", 24), True),
    (cond("age_hours", "lt", 24), False),
    (cond("hours_since_update", "lte", 2), True),
    (cond("working_hours_since_created", "gte", 8), True),
    (cond("days_in_status", "gte", 5), False),
    (cond("customer.contract_ends_in_days", "lte", 30), True),
    (cond("customer.contract_ends_in_days", "is_set"), True),
    (cond("customer.unpaid_amount", "gt", 100), True),
    (cond("customer.unpaid_amount", "gt", 250), False),
    (cond("customer.unpaid_amount", "gte", 250), True),
    (cond("customer.unpaid_amount", "lt", 250.5), True),
    (cond("customer.unpaid_amount", "lte", 249), False),
    (cond("customer.unpaid_amount", "is", 250), True),
    (cond("customer.overdue_amount", "is", 0), True),
    (cond("customer.unpaid_invoice_count", "gte", 2), True),
    (cond("customer.overdue_invoice_count", "gt", 0), False),
    # booleans
    (cond("has_first_response", "is", False), True),
    (cond("followup_overdue", "is", True), True),
    (cond("customer.has_service_contract", "is", True), True),
    (cond("customer.has_unpaid_invoices", "is", True), False),
    (cond("customer.has_overdue_invoices", "is", False), True),
    (cond("customer.pay_for_bug", "is", True), False),
    # the event
    (cond("event.type", "is", "ticket.updated"), True),
    (cond("event.type", "in", ["ticket.created"]), False),
    (cond("event.changed_fields", "contains", "status"), True),
    (cond("event.changed_fields", "contains", "kind"), False),
    (cond("event.is_automatic", "is", False), True),
    # the message a "message received" event is about
    (cond("message.channel", "is", "email"), True),
    (cond("message.channel", "not_in", ["email", "web"]), False),
    (cond("message.direction", "is", "in"), True),
    (cond("message.sender", "in", ["staff", "unknown"]), False),
    (cond("message.sender", "is_not", "unknown"), True),
    (cond("message.is_automatic", "is", True), False),
    (cond("survey.score", "lte", 6), True),
    (cond("survey.category", "is", "promoter"), False),
    (cond("survey.reason", "contains", "late"), True),
    (cond("survey.customer_open_problems", "is", 0), True),
    (cond("survey.is_change", "is", True), False),
    # changes
    (cond("status", "changed"), True),
    (cond("kind", "changed"), False),
    (cond("status", "changed_to", "pending"), True),
    (cond("status", "changed_to", "open"), False),
    (cond("status", "changed_from", "open"), True),
    (cond("priority", "changed_from", "low"), False),
    # tags changed: changed_to is "was added", changed_from is "was removed"
    (cond("tags", "changed"), True),
    (cond("tags", "changed_to", "VIP"), True),
    (cond("tags", "changed_to", "billing"), False),  # it was there before
    (cond("tags", "changed_from", "legal"), True),
    (cond("tags", "changed_from", "vip"), False),
    (cond("assignee", "changed_to", "erin"), True),
    (cond("assignee", "changed_from", "erin"), False),
    (cond("department", "changed_from", "engineering"), True),
    (cond("department", "changed_to", "engineering"), False),
    (cond("channel", "changed"), False),
]


@pytest.mark.parametrize(("condition", "expected"), CASES)
def test_each_operator(condition, expected):
    matched, explanation = evaluate_conditions({"all": [condition]}, FACTS)
    assert matched is expected
    assert explanation[0]["held"] is expected


def test_every_field_and_operator_is_covered():
    covered = {(c["field"], c["operator"]) for c, _ in CASES}
    fields = {field for field, _ in covered}
    assert fields == set(FIELDS)
    operators = {operator for _, operator in covered}
    every = {op for field in FIELDS.values() for op in field.operators}
    assert every <= operators | set(CHANGE_OPERATORS)


def test_missing_number_satisfies_no_comparison():
    facts = {**FACTS, "customer.contract_ends_in_days": None}
    for operator in ["lt", "lte", "gt", "gte", "is"]:
        condition = cond("customer.contract_ends_in_days", operator, 30)
        assert evaluate_conditions({"all": [condition]}, facts)[0] is False
    condition = cond("customer.contract_ends_in_days", "is_not_set")
    assert evaluate_conditions({"all": [condition]}, facts)[0] is True


def test_all_requires_every_condition():
    conditions = {"all": [cond("kind", "is", "bug"), cond("channel", "is", "email")]}
    assert evaluate_conditions(conditions, FACTS)[0] is False


def test_any_requires_one_condition():
    conditions = {"any": [cond("kind", "is", "rma"), cond("channel", "is", "phone")]}
    assert evaluate_conditions(conditions, FACTS)[0] is True
    conditions = {"any": [cond("kind", "is", "rma"), cond("channel", "is", "web")]}
    assert evaluate_conditions(conditions, FACTS)[0] is False


def test_all_and_any_combine():
    conditions = {
        "all": [cond("kind", "is", "bug")],
        "any": [cond("channel", "is", "web"), cond("priority", "is", "high")],
    }
    assert evaluate_conditions(conditions, FACTS)[0] is True
    conditions["all"] = [cond("kind", "is", "rfe")]
    assert evaluate_conditions(conditions, FACTS)[0] is False


def test_no_conditions_always_match():
    assert evaluate_conditions({}, FACTS)[0] is True


def test_explanation_gives_actual_values_of_every_condition():
    conditions = {
        "all": [cond("kind", "is", "rfe"), cond("customer.unpaid_amount", "gt", 10)],
        "any": [cond("status", "changed_to", "pending")],
    }
    matched, explanation = evaluate_conditions(conditions, FACTS)
    assert matched is False
    assert explanation == [
        {"group": "all", "field": "kind", "operator": "is", "value": "rfe", "actual": "bug",
         "held": False, "checked": True, "text": "Kind is Request for enhancement",
         "actual_text": "Bug report"},
        # Not needed to decide (the first failed), so checked for the explanation only.
        {"group": "all", "field": "customer.unpaid_amount", "operator": "gt", "value": 10,
         "actual": "250.00", "held": True, "checked": False,
         "text": "Customer's unpaid amount is greater than 10", "actual_text": "250.00"},
        {"group": "any", "field": "status", "operator": "changed_to", "value": "pending",
         "actual": ["open", "pending"], "held": True, "checked": False,
         "text": "Status changed to Pending", "actual_text": "Open → Pending"},
    ]  # fmt: skip


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


def test_evaluation_stops_when_the_outcome_is_known():
    from routing.engine.conditions import compile_rule

    rule = compile_rule(
        id=1, version=1, name="r", order=1, trigger="ticket.created", stop_processing=False,
        conditions={
            "all": [cond("kind", "is", "bug"), cond("channel", "is", "web")],
            "any": [cond("priority", "is", "high"), cond("status", "is", "new")],
        },
        actions=[],
    )  # fmt: skip
    assert rule.evaluate(FACTS) == (False, [True, False, None, None])
    assert rule.evaluate({**FACTS, "channel": "web"}) == (True, [True, True, True, None])
    assert rule.evaluate({**FACTS, "channel": "web", "priority": "low"}) == (
        False,
        [True, True, False, False],
    )


def test_a_change_of_tags_reads_old_tags_then_new_tags():
    # A change is [old, new]; for tags each side is itself a list. Only the operator tells a
    # change from a value, so two tags held by the ticket are not read as a change either.
    facts = {**FACTS, "changes": {"tags": [["vip", "billing"], ["vip", "billing", "urgent"]]}}
    conditions = {
        "all": [cond("tags", "changed_to", "urgent"), cond("tags", "contains", "vip")],
    }
    matched, explanation = evaluate_conditions(conditions, facts)
    assert matched is True
    assert [c["actual_text"] for c in explanation] == [
        "vip, billing → vip, billing, urgent",
        "vip, billing",
    ]
