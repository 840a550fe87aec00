"""Fields another app registers are fields like the engine's own: a changeable one keeps the
changes events record, so the change operators can match them."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from accounts.selectors import CustomerStanding
from routing.engine import fields as engine_fields
from routing.engine.conditions import compile_conditions
from routing.engine.facts import build_facts
from routing.engine.fields import Field, fields_register
from routing.engine.operators import NUMBER


@pytest.fixture
def registered_score():
    field = Field("example.score", NUMBER, "Example score", "ticket", changeable=True)
    fields_register(field)
    yield field
    engine_fields.FIELDS.pop(field.name)
    engine_fields.CHANGEABLE.discard(field.name)


def test_a_registered_changeable_field_keeps_its_changes_for_the_change_operators(
    registered_score,
):
    standing = CustomerStanding(
        has_service_contract=False,
        contract_ends_on=None,
        unpaid_invoice_count=0,
        unpaid_amount=Decimal("0"),
        overdue_invoice_count=0,
        overdue_amount=Decimal("0"),
        pay_for_bug=False,
        salesperson_id=None,
    )
    facts = build_facts(
        snapshot={},
        changes={"example.score": [1, 5], "not.a.field": [1, 2]},
        event_type="ticket.updated",
        is_automatic=False,
        now=datetime(2026, 12, 1, 12, tzinfo=UTC),
        standing=standing,
        today=date(2026, 12, 1),
    )
    assert facts["changes"] == {"example.score": [1, 5]}
    assert "example.score" in facts["event.changed_fields"]
    (condition,) = compile_conditions(
        {"all": [{"field": "example.score", "operator": "changed"}], "any": []}
    )
    assert condition.holds(facts)
