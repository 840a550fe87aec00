"""Rule definitions are validated with the exact place of each problem."""

import pytest

from routing.engine.validation import rule_definition_errors

NOTIFY = [{"type": "notify_department", "department": "engineering"}]


def errors(conditions, actions=NOTIFY):
    return dict(rule_definition_errors(conditions=conditions, actions=actions))


@pytest.mark.django_db
class TestConditions:
    def test_valid_definition_has_no_errors(self):
        conditions = {
            "all": [{"field": "kind", "operator": "in", "value": ["bug", "rfe"]}],
            "any": [{"field": "customer.pay_for_bug", "operator": "is", "value": True}],
        }
        assert errors(conditions) == {}

    def test_unknown_field(self):
        conditions = {"all": [{"field": "colour", "operator": "is", "value": "red"}]}
        assert errors(conditions) == {"conditions.all[0].field": "Unknown field 'colour'."}

    def test_operator_that_does_not_fit_the_field(self):
        conditions = {
            "any": [
                {"field": "kind", "operator": "is", "value": "bug"},
                {"field": "kind", "operator": "contains", "value": "bu"},
            ]
        }
        assert errors(conditions) == {
            "conditions.any[1].operator": "'contains' does not apply to kind; "
            "use is, is_not, in, not_in."
        }

    @pytest.mark.parametrize(
        ("condition", "message"),
        [
            (
                {"field": "kind", "operator": "is", "value": "bugs"},
                "Must be one of call, bug, rfe, rma.",
            ),
            ({"field": "kind", "operator": "in", "value": "bug"}, "Must be a non-empty list."),
            (
                {"field": "kind", "operator": "in", "value": ["bug", "x"]},
                "'x': Must be one of call, bug, rfe, rma.",
            ),
            ({"field": "subject", "operator": "contains", "value": " "}, "Must be non-empty text."),
            ({"field": "subject", "operator": "contains", "value": 3}, "Must be non-empty text."),
            (
                {"field": "customer.pay_for_bug", "operator": "is", "value": "yes"},
                "Must be true or false.",
            ),
            (
                {"field": "customer.unpaid_amount", "operator": "gt", "value": "100"},
                "Must be a number.",
            ),
            (
                {"field": "customer.unpaid_amount", "operator": "gt", "value": True},
                "Must be a number.",
            ),
            ({"field": "product", "operator": "is_set", "value": 1}, "Must be true or false."),
        ],
    )
    def test_value_of_the_wrong_type(self, condition, message):
        conditions = {"all": [{"field": "kind", "operator": "is", "value": "bug"}, condition]}
        assert errors(conditions) == {"conditions.all[1].value": message}

    def test_missing_value_and_unknown_keys_and_groups(self):
        conditions = {
            "all": [{"field": "kind", "operator": "is"}],
            "any": [{"field": "kind", "operator": "is", "value": "bug", "extra": 1}],
            "none": [],
        }
        assert errors(conditions) == {
            "conditions.none": 'Unknown group; use "all" or "any".',
            "conditions.all[0].value": "This field is required.",
            "conditions.any[0].extra": "Unknown key.",
        }

    def test_shapes(self):
        assert "conditions" in errors([])
        assert "conditions.all" in errors({"all": {}})
        assert "conditions.all[0]" in errors({"all": ["kind is bug"]})


@pytest.mark.django_db
class TestActions:
    def test_actions_must_be_a_non_empty_list(self):
        assert errors({}, []) == {"actions": "Must be a non-empty list of actions."}
        assert errors({}, {"type": "x"}) == {"actions": "Must be a non-empty list of actions."}

    def test_unknown_action(self):
        assert errors({}, [{"type": "fax"}]) == {
            "actions[0].type": "Unknown action 'fax'; use notify_department, create_followup, "
            "set_priority."
        }

    def test_department_must_exist(self):
        found = errors({}, [*NOTIFY, {"type": "notify_department", "department": "legal"}])
        assert found == {"actions[1].department": "No department with slug 'legal'."}

    @pytest.mark.parametrize("days", [-1, 61, "2", 1.5, True, None])
    def test_followup_delay_must_be_whole_working_days(self, days):
        found = errors({}, [{"type": "create_followup", "due_in_working_days": days}])
        assert found == {"actions[0].due_in_working_days": "Must be a whole number from 0 to 60."}

    def test_priority_must_be_known(self):
        found = errors({}, [{"type": "set_priority", "priority": "asap"}])
        assert found == {"actions[0].priority": "Must be one of low, normal, high, urgent."}

    def test_unknown_keys_and_non_text_message(self):
        found = errors(
            {}, [{"type": "notify_department", "department": "finance", "message": 5, "cc": "x"}]
        )
        assert found == {"actions[0].cc": "Unknown key.", "actions[0].message": "Must be text."}
