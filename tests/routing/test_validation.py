"""Rule definitions are validated with the exact place of each problem."""

import pytest

from routing.engine.validation import rule_definition_errors

NOTIFY = [{"type": "notify_department", "department": "engineering"}]


TAGS_REFUSED = (
    "Template error: Tags such as {% if %} or {% for %} are not supported, only placeholders "
    'such as {{ ticket.subject }}; write {{ "{%" }} for the text {% (at line 1, column 1).'
)


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
            "use is, is_not, in, not_in, changed, changed_to, changed_from."
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
            ({"field": "product", "operator": "is_set", "value": 1}, "'is_set' takes no value."),
            (
                {"field": "assignee", "operator": "is", "value": "nobody"},
                "No user with username 'nobody'.",
            ),
            (
                {"field": "department", "operator": "in", "value": ["finance", "legal"]},
                "'legal': No department with slug 'legal'.",
            ),
            ({"field": "tags", "operator": "contains", "value": ""}, "Must be non-empty text."),
            (
                {"field": "status", "operator": "changed_to", "value": "gone"},
                "Must be one of new, open, pending, resolved, closed.",
            ),
            (
                {"field": "status", "operator": "changed", "value": "open"},
                "'changed' takes no value.",
            ),
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
            "assign, set_priority, add_tag, send_email, call_webhook."
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


@pytest.mark.django_db
class TestTriggersAndNewActions:
    def test_changes_cannot_be_tested_by_time_based_rules(self):
        conditions = {"all": [{"field": "status", "operator": "changed"}]}
        found = dict(rule_definition_errors(conditions=conditions, actions=NOTIFY, trigger="time"))
        assert found == {
            "conditions.all[0].operator": "Time-based rules have no event: changes cannot be "
            "tested."
        }
        conditions = {"all": [{"field": "event.type", "operator": "is", "value": "ticket.timer"}]}
        found = dict(rule_definition_errors(conditions=conditions, actions=NOTIFY, trigger="time"))
        assert list(found) == ["conditions.all[0].operator"]

    def test_field_that_only_changes_cannot_use_change_operators(self):
        found = errors({"all": [{"field": "channel", "operator": "changed"}]})
        assert list(found) == ["conditions.all[0].operator"]

    @pytest.mark.parametrize(
        ("action", "expected"),
        [
            ({"type": "assign"}, {"actions[0]": 'Give either "user" or "department".'}),
            ({"type": "assign", "user": "x", "department": "finance"},
             {"actions[0]": 'Give either "user" or "department".'}),
            ({"type": "assign", "user": "ghost"},
             {"actions[0].user": "No active user with username 'ghost'."}),
            ({"type": "assign", "department": "legal"},
             {"actions[0].department": "No department with slug 'legal'."}),
            ({"type": "add_tag", "tag": "no spaces"},
             {"actions[0].tag": "'no spaces' is not a valid tag: use letters, numbers, - and _."}),
            ({"type": "add_tag"}, {"actions[0].tag": "Must be a tag name."}),
            ({"type": "notify_department", "department": "finance", "message": "{% if %}"},
             {"actions[0].message": TAGS_REFUSED}),
            ({"type": "notify_department", "department": "finance", "message": "{% url 'x' %}"},
             {"actions[0].message": TAGS_REFUSED}),
            ({"type": "notify_department", "department": "finance",
              "message": "Hi\n {{ ticket.subject|center:'wide' }}"},
             {"actions[0].message": "Template error: Unknown filter 'center'; use one of upper, "
              "lower, title, capfirst, truncatechars, truncatewords, default "
              "(at line 2, column 2)."}),
            ({"type": "send_email", "to": "everyone", "subject": "s", "body": "b"},
             {"actions[0].to": "Must be one of contact, department, salesperson."}),
            ({"type": "send_email", "to": "department", "subject": "s", "body": "b"},
             {"actions[0].department": "No department with slug None."}),
            ({"type": "send_email", "to": "contact", "department": "finance", "subject": "s",
              "body": "b"},
             {"actions[0].department": 'Only with "to": "department".'}),
            ({"type": "send_email", "to": "contact", "subject": " ", "body": "{% if %}"},
             {"actions[0].subject": "Must not be empty.", "actions[0].body": TAGS_REFUSED}),
            ({"type": "send_email", "to": "contact"},
             {"actions[0].subject": "This field is required.",
              "actions[0].body": "This field is required."}),
            ({"type": "call_webhook", "webhook": "crm"},
             {"actions[0].webhook": "No webhook named 'crm'."}),
        ],
    )  # fmt: skip
    def test_action_parameters(self, action, expected):
        assert errors({}, [action]) == expected

    def test_valid_new_actions(self, rep):
        from deliveries.models import Webhook

        Webhook.objects.create(name="crm", url="http://127.0.0.1:9/hook")
        actions = [
            {"type": "assign", "user": "rep"},
            {"type": "assign", "department": "engineering"},
            {"type": "add_tag", "tag": "renewal"},
            {"type": "send_email", "to": "department", "department": "finance",
             "subject": "{{ ticket.reference }}", "body": "Hello {{ customer.name }}"},
            {"type": "call_webhook", "webhook": "crm"},
        ]  # fmt: skip
        assert errors({}, actions) == {}


def test_a_template_failing_when_the_rule_fires_is_sent_as_written():
    from routing.engine.templates import render

    # Saved before validation checked templates, say: the rule's other actions still happen.
    context = {"ticket": {"subject": "x"}}
    assert render("Hello {{ ticket.subject|center:'wide' }}", context) == (
        "Hello {{ ticket.subject|center:'wide' }}"
    )
