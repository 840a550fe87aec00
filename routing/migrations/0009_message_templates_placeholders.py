"""Rules' message templates move from Django templates to placeholders (routing/engine/templates.py).

Most templates are already placeholders (``{{ ticket.subject }}``, ``{{ contact.name|default:"x" }}``)
and are left as they are. What the new syntax cannot say is converted so the rule keeps working:

- tags (``{% if %}``, ``{% for %}``, ...) are removed and the text between them is kept, once;
  ``{% comment %}`` blocks and ``{# #}`` comments are removed whole; ``{% templatetag %}`` becomes
  the text it stood for;
- filters other than upper, lower, title, capfirst, truncatechars, truncatewords and default are
  dropped (the placeholder stays); a truncation longer than 1,000 is shortened to 1,000;
- a placeholder that is not one of the known ones (which Django rendered as nothing) is removed;
- ``{{`` or ``{%`` that Django showed as text is written ``{{ "{{" }}`` or ``{{ "{%" }}``.

Only current rules are converted, each changed one with a new version (no author) whose summary
says what was removed; earlier versions and archived rules are history and stay as they were, so
explanations of past routing show the templates that ran. Restoring such a version asks for
its templates to be corrected first, as any invalid definition does.

The code is copied here, not imported, so the migration converts the same way whatever the
engine becomes. Reversing leaves the rules as they are: placeholders are valid Django templates.
"""

import re

from django.db import migrations

# Django's own tokenizer (django.template.base.tag_re): what the old engine saw as tags.
DJANGO_TOKEN = re.compile(r"({%.*?%}|{{.*?}}|{#.*?#})")
HEAD = re.compile(r'\s*(?:([A-Za-z_][\w.]*)|"([^"]*)"|\'([^\']*)\')\s*')
FILTER = re.compile(r'\|\s*(\w+)(?:\s*:\s*("[^"]*"|\'[^\']*\'|-?\d+))?\s*')
PLACEHOLDERS = {
    "ticket.reference",
    "ticket.subject",
    "ticket.description",
    "ticket.kind",
    "ticket.status",
    "ticket.priority",
    "ticket.product",
    "ticket.rma_number",
    "customer.name",
    "contact.name",
    "contact.email",
    "salesperson.name",
    "rule.name",
    "event.type",
}
PLAIN_FILTERS = {"upper", "lower", "title", "capfirst"}
NUMBER_FILTERS = {"truncatechars", "truncatewords"}
TRUNCATE_MAX = 1000
DEFAULT_MAX_LENGTH = 200
TEMPLATETAG = {
    "openblock": '{{ "{%" }}',
    "closeblock": "%}",
    "openvariable": '{{ "{{" }}',
    "closevariable": "}}",
    "openbrace": '{{ "{" }}',
    "closebrace": "}",
    "opencomment": "{#",
    "closecomment": "#}",
}
# Which keys of which actions are templates.
TEMPLATE_KEYS = {
    "notify_department": ("message",),
    "create_followup": ("reason",),
    "send_email": ("subject", "body"),
}
VERSIONED_FIELDS = ("name", "description", "trigger", "conditions", "actions", "stop_processing")


def _literal(text: str) -> str:
    text = re.sub(r"\{\{|\{%", lambda m: f'{{{{ "{m[0]}" }}}}', text)
    # A brace at the end could meet one from what follows once a tag between them is removed.
    return text[:-1] + '{{ "{" }}' if text.endswith("{") else text


def _variable(source: str, notes: list[str]) -> str:
    noted = len(notes)
    converted = _converted_variable(source, notes)
    # Written as it was when nothing had to go (``{{ticket.subject}}`` stays as it is).
    return "{{" + source + "}}" if len(notes) == noted else converted


def _converted_variable(source: str, notes: list[str]) -> str:
    head = HEAD.match(source)
    if not head or not source.strip():
        notes.append(f"removed {{{{{source}}}}}")
        return ""
    name = head[1]
    if name is not None and name not in PLACEHOLDERS:
        notes.append(f"removed unknown placeholder {name}")
        return ""
    kept = [name if name is not None else head[0].strip()]
    position = head.end()
    while position < len(source):
        found = FILTER.match(source, position)
        if not found:
            notes.append(f"dropped {source[position:].strip()[:30]!r}")
            break
        position = found.end()
        filter_name, argument = found[1], found[2]
        quoted = argument is not None and argument[0] in "\"'"
        number = argument is not None and not quoted
        if filter_name in PLAIN_FILTERS and argument is None:
            kept.append(filter_name)
        elif filter_name in NUMBER_FILTERS and number and argument.strip("-0"):
            if argument.startswith("-"):
                notes.append(f"dropped filter {filter_name}")
                continue
            if len(argument.lstrip("0")) > 4 or int(argument) > TRUNCATE_MAX:
                notes.append(f"{filter_name} shortened to {TRUNCATE_MAX}")
                argument = str(TRUNCATE_MAX)
            kept.append(f"{filter_name}:{int(argument)}")
        elif filter_name == "default" and quoted and len(argument) - 2 <= DEFAULT_MAX_LENGTH:
            kept.append(f"default:{argument}")
        else:
            notes.append(f"dropped filter {filter_name}")
    return "{{ " + "|".join(kept) + " }}"


def convert_template(text: str) -> tuple[str, list[str]]:
    """The template in placeholder syntax, and what could not be kept (empty if nothing)."""
    notes: list[str] = []
    out = []
    in_comment = False
    for index, token in enumerate(DJANGO_TOKEN.split(text)):
        if index % 2 == 0:  # the text between tokens
            if not in_comment:
                out.append(_literal(token))
            continue
        kind, source = token[:2], token[2:-2]
        bits = source.split()
        if kind == "{%" and bits[:1] == ["comment"]:
            in_comment = True
            notes.append("removed comment")
        elif kind == "{%" and bits[:1] == ["endcomment"]:
            in_comment = False
        elif in_comment or kind == "{#":
            continue
        elif kind == "{{":
            out.append(_variable(source, notes))
        elif bits[:1] == ["templatetag"] and len(bits) == 2 and bits[1] in TEMPLATETAG:
            out.append(TEMPLATETAG[bits[1]])
        else:
            notes.append(f"removed tag {bits[0] if bits else '{% %}'}")
    return "".join(out), notes


def convert_actions(actions) -> tuple[list, list[str]]:
    """The actions with their templates converted, and notes saying where what was removed."""
    if not isinstance(actions, list):
        return actions, []
    converted, notes = [], []
    for index, action in enumerate(actions):
        keys = TEMPLATE_KEYS.get(action.get("type"), ()) if isinstance(action, dict) else ()
        action = dict(action) if keys else action
        for key in keys:
            if not isinstance(action.get(key), str):
                continue
            action[key], found = convert_template(action[key])
            if found:  # each change once per template, in the order met
                notes.append(f"actions[{index}].{key}: {', '.join(dict.fromkeys(found))}")
        converted.append(action)
    return converted, notes


def _summary(notes: list[str]) -> str:
    summary = "Templates converted to placeholders" + (": " + "; ".join(notes) if notes else "")
    return summary if len(summary) <= 200 else summary[:199] + "…"


def convert_rules(apps, schema_editor):
    Rule = apps.get_model("routing", "Rule")
    RuleVersion = apps.get_model("routing", "RuleVersion")
    for rule in Rule.objects.filter(archived_at__isnull=True).order_by("pk"):
        actions, notes = convert_actions(rule.actions)
        if actions == rule.actions:
            continue
        rule.actions = actions
        rule.version += 1
        rule.save(update_fields=["actions", "version", "updated_at"])
        RuleVersion.objects.create(
            rule=rule,
            number=rule.version,
            definition={field: getattr(rule, field) for field in VERSIONED_FIELDS},
            changed_fields=["actions"],
            summary=_summary(notes),
        )


class Migration(migrations.Migration):
    dependencies = [("routing", "0008_delivery_claims")]

    operations = [migrations.RunPython(convert_rules, migrations.RunPython.noop)]
