"""Reads for routing: the rules to evaluate, their history and audit, and explanations."""

import difflib
import json
from datetime import datetime, timedelta

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, QuerySet
from django.utils import timezone

from routing.engine.conditions import explain_conditions
from routing.models import RoutingRun, Rule, RuleAuditEntry, RuleMatch, RuleVersion
from routing.models.rules import VERSIONED_FIELDS
from tickets.models import TicketEvent


def rules_list() -> QuerySet[Rule]:
    """Current (not archived) rules in evaluation order."""
    return Rule.objects.filter(archived_at__isnull=True).order_by("order", "id")


def rule_matches_for_ticket(*, ticket_id: int) -> QuerySet[RuleMatch]:
    return RuleMatch.objects.filter(ticket_id=ticket_id).select_related("rule", "event")


def rule_versions(*, rule_id: int) -> QuerySet[RuleVersion]:
    return RuleVersion.objects.filter(rule_id=rule_id).select_related("author")


def rule_audit_entries(*, rule_id: int | None = None) -> QuerySet[RuleAuditEntry]:
    """What was done to the rules (or one rule) besides editing them, newest first."""
    entries = RuleAuditEntry.objects.select_related("rule", "author")
    return entries.filter(rule_id=rule_id) if rule_id is not None else entries


def version_diff(*, rule_id: int, before: int, after: int) -> list[dict]:
    """What changed from one version of a rule to another, field by field.

    Conditions and actions also get a unified diff of their pretty-printed JSON, so an admin
    sees which condition changed, not only that the conditions did.
    """
    versions = {
        v.number: v.definition
        for v in RuleVersion.objects.filter(rule_id=rule_id, number__in=[before, after])
    }
    if before not in versions or after not in versions:
        raise RuleVersion.DoesNotExist
    changes = []
    for field in VERSIONED_FIELDS:
        old, new = versions[before].get(field), versions[after].get(field)
        if old == new:
            continue
        change = {"field": field, "before": old, "after": new}
        if isinstance(old, dict | list) or isinstance(new, dict | list):
            change["diff"] = list(
                difflib.unified_diff(
                    json.dumps(old, indent=2, sort_keys=True).splitlines(),
                    json.dumps(new, indent=2, sort_keys=True).splitlines(),
                    fromfile=f"version {before}",
                    tofile=f"version {after}",
                    lineterm="",
                )
            )
        changes.append(change)
    return changes


def ticket_routing_explanation(*, ticket_id: int) -> list[dict]:
    """Why the ticket was routed as it was: for each event, every rule evaluated, each of its
    conditions with the value it was tested on, and what each fired rule did.

    A fixed number of queries: events with their runs, the rule versions they name, matches.
    """
    events = list(
        TicketEvent.objects.filter(ticket_id=ticket_id)
        .select_related("routing_run", "actor")
        .order_by("created_at", "id")
    )
    runs = [e.routing_run for e in events if hasattr(e, "routing_run")]
    wanted = {(ev[0], ev[1]) for run in runs for ev in run.evaluations}
    versions = {}
    if wanted:
        rule_ids = {rule_id for rule_id, _ in wanted}
        for version in RuleVersion.objects.filter(rule_id__in=rule_ids):
            if (version.rule_id, version.number) in wanted:
                versions[(version.rule_id, version.number)] = version.definition
    matches = {
        (m.event_id, m.rule_id): m.actions for m in RuleMatch.objects.filter(ticket_id=ticket_id)
    }
    return [_explain_event(event, versions, matches) for event in events]


def _explain_event(event, versions, matches) -> dict:
    run = getattr(event, "routing_run", None)
    explained = {
        "event": event.pk,
        "type": event.type,
        "type_label": event.get_type_display(),
        "at": event.created_at,
        "actor": event.actor.username if event.actor else None,
        "changes": event.changes,
        "routed": run is not None,
        "skipped_reason": run.skipped_reason if run else "",
        "rules": [],
    }
    if run is None:
        return explained
    for rule_id, version, matched, held, *changed in run.evaluations:
        definition = versions.get((rule_id, version), {})
        # Facts changed by earlier rules' actions in the same run, as this rule saw them.
        facts = {**run.facts, **changed[0]} if changed else run.facts
        explained["rules"].append(
            {
                "rule": rule_id,
                "name": definition.get("name", ""),
                "version": version,
                "matched": matched,
                "conditions": explain_conditions(definition.get("conditions", {}), held, facts),
                "actions": matches.get((event.pk, rule_id), []),
            }
        )
    return explained


def routing_runs_recent(*, window: timedelta, now: datetime | None = None) -> dict:
    """Routing over the last ``window``, for monitoring: ``runs`` (events routed) and the
    ``delay_avg_seconds`` and ``delay_max_seconds`` from an event being written to its routing
    (None when nothing was routed). One query, on the runs' BRIN index."""
    now = now or timezone.now()
    delay = ExpressionWrapper(
        F("created_at") - F("event__created_at"), output_field=DurationField()
    )
    recent = RoutingRun.objects.filter(created_at__gte=now - window).aggregate(
        runs=Count("id"), delay_avg=Avg(delay), delay_max=Max(delay)
    )
    return {
        "runs": recent["runs"],
        "delay_avg_seconds": _seconds(recent["delay_avg"]),
        "delay_max_seconds": _seconds(recent["delay_max"]),
    }


def _seconds(duration: timedelta | None) -> float | None:
    return None if duration is None else duration.total_seconds()
