"""The INSERTs routing makes, compiled once per shape and then filled with each call's values.

``RuleMatch`` is the model to try them on: two JSON fields (adapted by the driver), an
``auto_now_add`` time (set by ``pre_save``), a nullable foreign key and a unique constraint.
"""

from itertools import count as numbers

import pytest
from django.db import connection
from django.db.models import Value

from routing.engine import rows
from routing.models import RuleMatch
from routing.services import rule_create
from tickets.models import TicketEvent
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_shapes_yet(monkeypatch):
    monkeypatch.setattr(rows, "_SHAPES", {})


@pytest.fixture
def compiles(monkeypatch):
    """The statements that went through Django's compiler, by number of rows."""
    seen = []
    compiled = rows._compiled

    def counting(model, using, fields, objs, returning):
        seen.append(len(objs))
        return compiled(model, using, fields, objs, returning)

    monkeypatch.setattr(rows, "_compiled", counting)
    return seen


@pytest.fixture
def event(customer):
    ticket = ticket_create(customer=customer, kind="bug", channel="email", subject="Jammed")
    return TicketEvent.objects.get(ticket=ticket, type="ticket.created")


_names = numbers()


def rules(count):
    return [
        rule_create(
            name=f"r{next(_names)}",
            trigger="ticket.created",
            conditions={},
            actions=[{"type": "add_tag", "tag": "seen"}],
        )
        for n in range(count)
    ]


def match(event, rule, n=0):
    return RuleMatch(
        event=event,
        rule=rule,
        rule_version=rule.versions.first() if n % 2 else None,
        ticket=event.ticket,
        conditions=[{"field": "kind", "actual": f"bug {n}", "held": True}],
        actions=[{"type": "notify", "outcome": {"n": n, "quote": 'it\'s "on"'}}],
    )


def stored(obj):
    row = RuleMatch.objects.get(event=obj.event, rule=obj.rule)
    return (row.rule_version_id, row.ticket_id, row.conditions, row.actions, row.created_at)


def given(obj):
    return (obj.rule_version_id, obj.ticket_id, obj.conditions, obj.actions, obj.created_at)


class TestOneShapeCompiledOnce:
    @pytest.mark.parametrize("count", [1, 3])
    def test_the_second_statement_is_not_compiled_and_stores_its_own_values(
        self, event, compiles, count
    ):
        first_rules, later_rules = rules(count), rules(count)
        first = [match(event, rule, n) for n, rule in enumerate(first_rules)]
        later = [match(event, rule, n + 7) for n, rule in enumerate(later_rules)]

        inserted_first = rows.insert_ignoring_conflicts(first, returning=("rule",))
        inserted_later = rows.insert_ignoring_conflicts(later, returning=("rule",))

        assert compiles == [count]
        assert sorted(inserted_later) == sorted(
            (RuleMatch.objects.get(rule=r).pk, r.pk) for r in later_rules
        )
        assert len(inserted_first) == count
        for obj in first + later:
            assert obj.created_at is not None  # auto_now_add, as the compiler would set it
            assert stored(obj) == given(obj)

    def test_one_row_is_laid_out_flat_and_several_by_column_on_postgresql(self, event):
        one, two = rules(1), rules(2)
        rows.insert_ignoring_conflicts([match(event, one[0])])
        rows.insert_ignoring_conflicts([match(event, r, n) for n, r in enumerate(two)])

        layouts = {key[2]: shape.by_column for key, shape in rows._SHAPES.items()}
        assert layouts == {1: False, 2: connection.vendor == "postgresql"}

    def test_a_conflicting_row_is_still_skipped(self, event, compiles):
        a, b = rules(2)
        rows.insert_ignoring_conflicts([match(event, a)])
        again = rows.insert_ignoring_conflicts([match(event, a, 1)])
        new = rows.insert_ignoring_conflicts([match(event, b, 1)])

        assert compiles == [1]
        assert again == []
        assert len(new) == 1
        assert RuleMatch.objects.count() == 2
        assert RuleMatch.objects.get(rule=a).rule_version_id is None  # the first one kept

    def test_an_expression_goes_through_the_compiler_and_the_shape_stays(self, event, compiles):
        a, b, c = rules(3)
        rows.insert_ignoring_conflicts([match(event, a)])
        obj = match(event, b)
        obj.ticket_id = Value(event.ticket_id)

        rows.insert_ignoring_conflicts([obj])
        rows.insert_ignoring_conflicts([match(event, c)])

        assert compiles == [1, 1]
        assert RuleMatch.objects.get(rule=b).ticket_id == event.ticket_id
        assert RuleMatch.objects.filter(rule=c).exists()

    def test_a_value_a_field_prepares_into_an_expression_goes_through_the_compiler(
        self, event, compiles, monkeypatch
    ):
        a, b = rules(2)
        rows.insert_ignoring_conflicts([match(event, a)])
        field = RuleMatch._meta.get_field("rule_version")
        prepared = field.get_db_prep_save

        def prep(value, connection):
            return Value(None) if value == -1 else prepared(value, connection)

        monkeypatch.setattr(field, "get_db_prep_save", prep)
        obj = match(event, b)
        obj.rule_version_id = -1

        rows.insert_ignoring_conflicts([obj])

        assert compiles == [1, 1]
        assert RuleMatch.objects.get(rule=b).rule_version_id is None

    def test_a_first_statement_with_an_expression_leaves_the_shape_to_the_next(
        self, event, compiles
    ):
        a, b, c = rules(3)
        obj = match(event, a)
        obj.ticket_id = Value(event.ticket_id)

        rows.insert_ignoring_conflicts([obj])
        assert rows._SHAPES == {}
        rows.insert_ignoring_conflicts([match(event, b)])
        rows.insert_ignoring_conflicts([match(event, c)])

        assert compiles == [1, 1]
        assert RuleMatch.objects.count() == 3

    def test_more_rows_than_kept_are_compiled_every_time(self, event, compiles, monkeypatch):
        monkeypatch.setattr(rows, "MAX_ROWS_KEPT", 1)
        first, later = rules(2), rules(2)
        rows.insert_ignoring_conflicts([match(event, r) for r in first])
        rows.insert_ignoring_conflicts([match(event, r) for r in later])

        assert compiles == [2, 2]
        assert rows._SHAPES == {}
        assert RuleMatch.objects.count() == 4


class TestWhatIsNotKept:
    def compiled(self, event, count=2):
        objs = [match(event, rule, n) for n, rule in enumerate(rules(count))]
        fields = rows._insert_fields(RuleMatch)
        sql, params = rows._compiled(RuleMatch, "default", fields, objs, ())
        return sql, params, fields, objs

    def test_the_compilers_own_parameters_make_a_shape(self, event):
        sql, params, fields, objs = self.compiled(event)
        assert rows._shape_of(sql, params, fields, objs, connection) is not None

    def test_parameters_other_than_this_modules_make_none(self, event):
        sql, params, fields, objs = self.compiled(event, count=1)
        assert rows._shape_of(sql, params[::-1], fields, objs, connection) is None

    def test_a_field_whose_placeholder_depends_on_the_value_makes_none(self, event, monkeypatch):
        sql, params, fields, objs = self.compiled(event)
        field = RuleMatch._meta.get_field("actions")
        monkeypatch.setattr(field, "get_placeholder", lambda *args: "%s", raising=False)
        assert rows._shape_of(sql, params, fields, objs, connection) is None

    def test_an_unkept_shape_is_compiled_every_time(self, event, compiles, monkeypatch):
        monkeypatch.setattr(rows, "_shape_of", lambda *args: None)
        a, b = rules(2)
        rows.insert_ignoring_conflicts([match(event, a)])
        rows.insert_ignoring_conflicts([match(event, b)])

        assert compiles == [1, 1]
        assert list(rows._SHAPES.values()) == [None]
        assert RuleMatch.objects.count() == 2


def test_values_are_the_same_only_of_the_same_type():
    assert rows._equal([1, "a"], [1, "a"])
    assert not rows._equal(1, True)
    assert not rows._equal([1], 1)
    assert not rows._equal(1, 1.0)
