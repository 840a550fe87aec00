"""HTML pages of routing: the rule list and editor (for those who may edit rules,
``accounts.roles.can_edit_rules``), and why a ticket was routed."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from accounts.roles import can_edit_rules
from routing.api.serializers import RuleSerializer
from routing.engine.language import language_description
from routing.preview import DEFAULT_LAST, MAX_TICKETS, Names, rule_summary
from routing.selectors import (
    rule_audit_entries,
    rule_versions,
    rules_list,
    ticket_routing_explanation,
)
from tickets.selectors import tickets_brief


def _require_rule_editor(request) -> None:
    if not can_edit_rules(request.user):
        raise PermissionDenied("Only admins, and those granted rule editing, edit routing rules.")


AUDIT_SHOWN = 20


@login_required
def rule_list(request):
    _require_rule_editor(request)
    rules, names = list(rules_list()), Names.load()
    for rule in rules:
        rule.summary = rule_summary(conditions=rule.conditions, actions=rule.actions, names=names)
    context = {"rules": rules, "audit": rule_audit_entries()[:AUDIT_SHOWN]}
    return render(request, "routing/rule_list.html", context)


@login_required
def rule_editor(request, pk: int | None = None):
    _require_rule_editor(request)
    rule = get_object_or_404(rules_list(), pk=pk) if pk is not None else None
    context = {
        "rule": rule,
        "editor_data": {
            "language": language_description(),
            "rule": RuleSerializer(rule).data if rule else None,
        },
        "preview_max": MAX_TICKETS,
        "preview_max_text": f"{MAX_TICKETS:,}",
        "preview_default": DEFAULT_LAST,
        "versions": rule_versions(rule_id=rule.pk) if rule else [],
        "audit": rule_audit_entries(rule_id=rule.pk)[:AUDIT_SHOWN] if rule else [],
    }
    return render(request, "routing/rule_editor.html", context)


@login_required
def ticket_routing(request, pk: int):
    """Why? Every event of the ticket, the rules evaluated, each condition and its value."""
    ticket = get_object_or_404(tickets_brief(), pk=pk)
    context = {"ticket": ticket, "events": ticket_routing_explanation(ticket_id=ticket.pk)}
    return render(request, "routing/ticket_routing.html", context)
