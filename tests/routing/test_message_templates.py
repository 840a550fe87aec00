"""Rule message templates are placeholders with a few filters: no loops, no unbounded output."""

import importlib

import pytest
from django.apps import apps

from queues.models import Notification
from routing.engine.templates import MESSAGE_MAX_LENGTH, render, template_error
from routing.models import Rule, RuleVersion
from routing.services import rule_archive, rule_create
from tests.conftest import dispatch_pending
from tickets.services import ticket_create

LOOPS = (
    "{% for a in ticket.description %}{% for b in ticket.description %}x{% endfor %}{% endfor %}"
)


def notify(message: str) -> dict:
    return {
        "name": "Tell engineering",
        "trigger": "ticket.created",
        "actions": [{"type": "notify_department", "department": "engineering", "message": message}],
    }


def context(**ticket) -> dict:
    return {
        "ticket": {"reference": "T-7", "subject": "Printer on fire", **ticket},
        "customer": {"name": "Acme"},
        "contact": {},
    }


@pytest.mark.django_db
class TestSaving:
    def test_a_nested_loop_is_refused_with_its_place(self, admin_api):
        response = admin_api.post("/api/v1/rules/", notify(f"Look: {LOOPS}"), format="json")
        assert response.status_code == 400
        (message,) = response.json()["actions[0].message"]
        assert message.startswith("Template error: Tags such as {% if %} or {% for %} are not")
        assert message.endswith("(at line 1, column 7).")
        assert not Rule.objects.exists()

    def test_a_huge_filter_argument_is_refused(self, admin_api):
        body = notify("{{ ticket.subject|center:100000000 }}")
        response = admin_api.post("/api/v1/rules/", body, format="json")
        assert response.status_code == 400
        assert "Unknown filter 'center'" in response.json()["actions[0].message"][0]
        body = notify("{{ ticket.subject|truncatechars:100000000 }}")
        response = admin_api.post("/api/v1/rules/", body, format="json")
        assert response.json() == {
            "actions[0].message": [
                "Template error: The filter 'truncatechars' takes a whole number from 1 to 1,000"
                " (at line 1, column 1)."
            ]
        }

    def test_an_email_subject_error_names_its_field(self, admin_api):
        body = {
            **notify(""),
            "actions": [
                {
                    "type": "send_email",
                    "to": "contact",
                    "subject": "{{ ticket.secret }}",
                    "body": "b",
                }
            ],
        }
        response = admin_api.post("/api/v1/rules/", body, format="json")
        assert response.status_code == 400
        assert list(response.json()) == ["actions[0].subject"]
        assert "Unknown placeholder 'ticket.secret'" in response.json()["actions[0].subject"][0]

    def test_a_valid_template_is_saved(self, admin_api):
        body = notify('{{ ticket.reference }}: {{ contact.name|default:"no contact"|upper }}')
        assert admin_api.post("/api/v1/rules/", body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{{ ticket.secret }}", "Unknown placeholder 'ticket.secret'"),
        ("{{ ticket }}", "Unknown placeholder 'ticket'"),
        ("{{ ticket.subject.__class__ }}", "Unknown placeholder 'ticket.subject.__class__'"),
        ("{{ ticket.subject|safe }}", "Unknown filter 'safe'"),
        ("{{ ticket.subject|upper:'x' }}", "The filter 'upper' takes no argument"),
        ("{{ ticket.subject|truncatechars:0 }}", "takes a whole number from 1 to 1,000"),
        ("{{ ticket.subject|truncatewords:'x' }}", "takes a whole number from 1 to 1,000"),
        ("{{ ticket.subject|default:5 }}", "takes a quoted text of at most 200 characters"),
        ("{{ ticket.subject|default:'" + "x" * 201 + "' }}", "of at most 200 characters"),
        ("{{ ticket.subject + 1 }}", "Cannot read '+ 1'"),
        ("{{ }}", "Expected a placeholder"),
        (
            "Dear\n  {{ contact.name",
            '{{ is never closed with }}; write {{ "{{" }} for the text {{ (at line 2, column 3).',
        ),
        ("{# a comment #} {% now 'Y' %}", "Tags such as {% if %}"),
        ("x" * 10_001, "Must be at most 10,000 characters."),
    ],
)
def test_what_is_refused(text, problem):
    assert problem in template_error(text)


def test_filters():
    ctx = context(subject="o'neil's 3rd printer", description="one two three four")
    assert render("{{ ticket.subject|upper }}", ctx) == "O'NEIL'S 3RD PRINTER"
    assert render("{{ ticket.subject|title }}", ctx) == "O'Neil's 3rd Printer"
    assert render("{{ ticket.subject|capfirst }}", ctx) == "O'neil's 3rd printer"
    assert render("{{ customer.name|lower }}", ctx) == "acme"
    assert render("{{ ticket.subject|truncatechars:6 }}", ctx) == "o'nei…"
    assert render("{{ ticket.description|truncatewords:2 }}", ctx) == "one two …"
    assert render("{{ contact.name|default:'the customer' }}", ctx) == "the customer"
    assert render('{{ ticket.reference | lower | default:"x" }}', ctx) == "t-7"
    assert render("{{ salesperson.name }}.", ctx) == "."  # not known for this ticket: empty


def test_literal_braces_are_written_quoted():
    text = 'Write {{ "{{" }} ticket.subject }} or {{ "{%" }} if %} to show them; {a} }} %}'
    assert template_error(text) is None
    assert (
        render(text, context()) == "Write {{ ticket.subject }} or {% if %} to show them; {a} }} %}"
    )


def test_a_huge_description_renders_capped():
    description = "word " * 20_000  # 100,000 characters, as much as a ticket holds
    text = "{{ ticket.description }}\n" * 400  # 10,000 characters: the longest template
    assert template_error(text) is None
    rendered = render(text, context(description=description))
    assert len(rendered) == MESSAGE_MAX_LENGTH
    assert rendered.endswith("…")
    assert render("{{ ticket.description|upper }}", context(description=description)) == (
        ("WORD " * 2_000)[: MESSAGE_MAX_LENGTH - 1].rstrip() + "…"
    )


def test_filters_see_no_more_than_can_be_shown(monkeypatch):
    from routing.engine import templates

    seen = []

    def upper(value, _argument):
        seen.append(len(value))
        return value.upper()

    monkeypatch.setitem(templates.FILTERS, "upper", templates.Filter(upper))
    description = "word " * 20_000
    render("{{ ticket.description|upper }}" * 300, context(description=description))
    # The first fills the message; the rest are not rendered at all.
    assert seen == [MESSAGE_MAX_LENGTH + 1]


@pytest.mark.django_db
def test_a_rule_renders_its_message_when_it_fires(customer):
    rule_create(**notify("{{ ticket.reference }} {{ ticket.subject|upper }} ({{ rule.name }})"))
    ticket = ticket_create(customer=customer, kind="bug", channel="phone", subject="Jammed")
    dispatch_pending()
    assert Notification.objects.get().message == f"{ticket.reference} JAMMED (Tell engineering)"


# --- migration 0009 -----------------------------------------------------------------------------

migration = importlib.import_module("routing.migrations.0009_message_templates_placeholders")


@pytest.mark.parametrize(
    ("old", "new", "notes"),
    [
        ("{{ ticket.subject }} for {{customer.name|upper}}", None, []),
        (
            "{{ ticket.subject|center:100000000 }}",
            "{{ ticket.subject }}",
            ["dropped filter center"],
        ),
        (LOOPS, "x", ["removed tag for", "removed tag endfor"]),
        (
            "{% if contact.name %}Dear {{ contact.name }},{% endif %}",
            "Dear {{ contact.name }},",
            ["removed tag if", "removed tag endif"],
        ),
        ("Hi{# who #} {% comment %}{{ x }}{% endcomment %}you", "Hi you", ["removed comment"]),
        (
            "{{ ticket.description|truncatechars:5000 }}",
            "{{ ticket.description|truncatechars:1000 }}",
            ["truncatechars shortened to 1000"],
        ),
        ("{{ ticket.secret }}!", "!", ["removed unknown placeholder ticket.secret"]),
        ("{{ unclosed and {%", '{{ "{{" }} unclosed and {{ "{%" }}', []),
        ("{{% if x %}{ y", '{{ "{" }}{ y', ["removed tag if"]),
    ],
)
def test_the_migration_converts_a_template(old, new, notes):
    converted, found = migration.convert_template(old)
    assert converted == (old if new is None else new)
    assert list(dict.fromkeys(found)) == notes
    assert template_error(converted) is None


@pytest.mark.django_db
def test_the_migration_converts_current_rules_with_a_new_version(admin_user):
    kept = rule_create(**{**notify("{{ ticket.subject }}"), "name": "Kept"})
    old = rule_create(**{**notify("x"), "name": "Old"}, author=admin_user)
    archived = rule_create(**{**notify("x"), "name": "Archived"})
    rule_archive(rule=archived)
    # As the old engine stored them: no validation of the new syntax, straight into the rows.
    email = {"type": "send_email", "to": "contact", "subject": "{{ ticket.subject|center:99 }}"}
    actions = [
        {"type": "notify_department", "department": "engineering", "message": LOOPS},
        {**email, "body": "{% if contact.name %}Dear {{ contact.name }}{% endif %}"},
        {"type": "create_followup", "due_in_working_days": 2, "reason": "{{ rule.name|lower }}"},
    ]
    Rule.objects.filter(pk__in=[old.pk, archived.pk]).update(actions=actions)

    migration.convert_rules(apps, None)

    old.refresh_from_db()
    assert old.actions == [
        {"type": "notify_department", "department": "engineering", "message": "x"},
        {**email, "subject": "{{ ticket.subject }}", "body": "Dear {{ contact.name }}"},
        actions[2],
    ]
    version = old.versions.get(number=2)
    assert old.version == 2
    assert version.definition["actions"] == old.actions
    assert version.changed_fields == ["actions"]
    assert version.author is None
    assert version.summary == (
        "Templates converted to placeholders: actions[0].message: removed tag for, removed tag "
        "endfor; actions[1].subject: dropped filter center; actions[1].body: removed tag if, "
        "removed tag endif"
    )
    # History stays as it was: the first version and the archived rule are not rewritten.
    assert old.versions.get(number=1).definition["actions"][0]["message"] == "x"
    archived.refresh_from_db()
    assert archived.actions == actions
    assert RuleVersion.objects.filter(rule=kept).count() == 1
    migration.convert_rules(apps, None)  # a second run finds nothing left to convert
    assert old.versions.count() == 2


@pytest.mark.django_db
def test_the_editor_explains_the_syntax(admin_client):
    page = admin_client.get("/rules/new/").content.decode()
    assert 'No tags such as {% if %} or {% for %}; to show braces as text, write {{ "{{" }}' in page
